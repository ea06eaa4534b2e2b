// Package bench is tsgate's load generator and side-by-side comparison tooling (issue 12),
// the engine of `tsgate bench`. It is an HTTP client of tsgate and uses the public API only
// (plus bench/dataset, the standard dataset of DESIGN.md §8).
//
//   - PrepareIngest sets a world up through the API (a user group, the dataset's objects, their
//     tokens or a writable apikey) and pre-builds every request body (BuildPayload), so that
//     generating data never limits a run; IngestRun.Run posts them over keep-alive fasthttp
//     connections, one request in flight on each, and returns an IngestResult (samples/s,
//     latency percentiles, errors by status, bytes sent, a per-second timeline).
//   - RunQueries sends raw, latest, aggregated and multi-object queries and reports rows/s and
//     latency per kind; a query endpoint answering 404 is ErrNoQueryEndpoint, naming it.
//   - Compare runs tsgate, VictoriaMetrics and InfluxDB 1.x in turn on 127.0.0.1 with the same
//     line-protocol payload and measures bytes/sample after each one's compaction
//     (bench/compare.sh installs the Debian packages and calls it).
//   - WriteReport renders a markdown report and SVG charts (gonum plot).
//
// Every run is bounded by its dataset size and optionally a duration. Subcommand bench/profserve
// serves a node with net/http/pprof for --cpuprofile; docs/decisions/0012-bench-harness.md
// says why the harness is built this way. Results live in bench/RESULTS.md.
//
// Concurrency: the functions are safe to call from several goroutines on distinct runs; an
// IngestRun may be run more than once only over distinct body ranges (RunBodies), since a body
// sent twice is a duplicate.
package bench
