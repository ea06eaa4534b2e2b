// Package tsdb is the durable, compressed, columnar time-series store of tsgate.
//
// It owns series (object id → value type), WAL records, the in-memory head,
// encoded blocks, compaction, retention range deletes, iterators and per-series
// stats. It is plain Go over one shared Pebble instance: it may import pebble and
// VictoriaMetrics lib/encoding, and nothing of tsgate (no HTTP, no acl, no catalog).
package tsdb
