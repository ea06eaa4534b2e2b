// Package tsdb is the durable, compressed, columnar time-series store of tsgate.
//
// It owns series (object id → value type), WAL records, the in-memory head,
// encoded blocks, compaction, retention range deletes, iterators and per-series
// stats. It is plain Go over one shared Pebble instance: it may import pebble and
// VictoriaMetrics lib/encoding, and nothing of tsgate (no HTTP, no acl, no catalog).
// Formats: docs/format/tsdb.md; choices: docs/decisions/0005-*.
//
// # Model
//
// Append takes a whole request (a Batch: columnar, reusable, no allocation
// per sample), validates it (series exist, types, timestamp range, string
// size, duplicates under Reject), writes one WAL record `w|seq` in a Pebble
// batch committed with pebble.Sync — concurrent calls share fsyncs — and
// adds the samples to the head. When the head exceeds Options.HeadBytes a
// background flush encodes it into blocks `b|id|minTs|maxTs|seq` and, in the
// same Pebble batch, writes the stats as of its cut and deletes the WAL
// records the cut covers. Open replays the WAL left above the last flush.
// A background pass merges the blocks a flush of late data made overlap, and
// runs of small blocks (many objects sharing one head); Compact merges
// everything and runs a full Pebble compaction.
//
// # Concurrency
//
// Every method is safe for concurrent use. An object's in-memory state is
// guarded by one of 256 lock stripes (plus a shared RWMutex); a batch that
// spans many stripes takes the RWMutex exclusively instead. No lock is held
// across an fsync: the WAL record is applied to Pebble under the locks and
// the fsync is awaited after they are released, so readers may see a sample
// shortly before its Append returns (as in Pebble). Flushes, compactions and
// deletes are serialized among themselves (not against appends or reads).
// Iterators hold no lock: they read a copy of the head and a Pebble snapshot.
//
// # Close
//
// Close stops the background flusher (waiting for a running flush), writes
// pending read counters, syncs and closes Pebble, and releases the directory
// lock. It does not flush the head: the WAL is durable and is replayed by the
// next Open. Close must be called after every other call has returned.
package tsdb
