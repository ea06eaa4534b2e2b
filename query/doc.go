// Package query serves the read endpoints (values, latest, aggregated, stats and
// multi-object queries), filtering series by the caller's compiled acl view at
// scan time and streaming JSON or CSV.
//
// Routes (Mount): GET /objects/{id}/values, …/values/latest, …/values/aggregated,
// …/stats (bbdata-v2.md §4 with API.md §2), their anonymous twins under
// /public/objects/{id}/… (API.md §3.3), and GET|POST /query (API.md §3.6; with a q
// parameter, the Influx clients' start-up statements of API.md §4).
//
// Authorization: every object is resolved through the caller's acl.KeyView before
// any data is read — an object the key may not read answers exactly as a missing
// one (404, absent from /query) — and values of objects reached only through
// time-bounded shares are clipped to the share windows (clip.go), rollup buckets
// the windows cut being recomputed from the raw samples inside them.
//
// Rollup rows come from a Rollups: RawRollups computes them from raw values on
// read; AggregateRollups serves the aggregate package's stored rows.
//
// Streaming: a response body is pulled by fasthttp after the handler returns
// (body.WriteTo) and produced into one bounded buffer; everything that can fail
// with a status — negotiation, parameters, 404, --max-query-points — is decided
// before the body exists. A failed write (client gone) stops the scan and closes
// its iterator. Decisions: docs/decisions/0011-query-streaming-and-read-rules.md.
//
// It may import api, acl, catalog, tsdb and aggregate (DESIGN.md §2).
//
// Concurrency: a Handler is safe for concurrent use; it starts no goroutine and
// has nothing to close.
package query
