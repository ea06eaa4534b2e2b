// Package ingest serves the write endpoints (BBData JSON measures and Influx line
// protocol): parsing, batch validation, authorization through acl and durable
// appends through tsdb.
//
// It may import api, acl, catalog, tsdb and aggregate.
//
// # Parsers
//
// The two body parsers are plain types, independent of HTTP, reused across
// requests through pools (GetMeasuresParser/PutMeasuresParser,
// GetLineParser/PutLineParser) and free of per-measure allocation: what they
// return are views into the request body or into the parser's own scratch
// buffer, valid until the parser is reset or put back.
//
//   - MeasuresParser reads POST /objects/values and /input/measures[/bulk]
//     bodies (bbdata-v2.md §3): the exact JSON grammar, Jackson's coercions
//     (string objectId, scalar tokens, any JSON value as value text), step 1
//     (*SyntaxError → 400 HttpMessageNotReadableException) and step 2 of §3.2
//     over all elements (*ValidationError → 400 WrongParamsException with a
//     field-details object).
//   - LineParser reads Influx line protocol for /write and /api/v2/write
//     (API.md §3.2): Influx's escaping, the object tag, the value field of any
//     Influx type, precisions truncated to milliseconds; any bad line fails the
//     body with a *LineError ("line <n>: …", 400 WrongParamsException).
//
// Both bound the measures per body (ErrTooManyMeasures → 413). Dates, value
// types and canonical value texts come from api (ParseDateTime,
// ParseValueFloat…, AppendValueFloat…). Fuzz targets and malformed corpora
// live beside them (testdata/); BenchmarkMeasuresJSON and
// BenchmarkLineProtocol run beside encoding/json and VictoriaMetrics' parser.
package ingest
