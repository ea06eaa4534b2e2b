// Package aggregate maintains the 15-minute, 1-hour and 1-day rollup rows of
// every numeric (float and int) object, exact under late data.
//
// A row holds count, sum, mean and M2 (population variance M2/count), min,
// max, and the first and last values with their timestamps; rows merge with
// Chan's parallel formula; NaN and ±Inf are left out. Windows are UTC-aligned.
//
// Rows are maintained on the write path: ingest calls Rollups.Append instead
// of tsdb.DB.Append. In-order samples update the open 15-minute accumulator in
// memory; hours and days are folded when a window closes and written in bulk.
// Late and overwriting samples make their bucket be recomputed from raw data
// (tsdb.Scan). An intent written before each Append lets Open recompute what a
// crash left behind, so the rows always equal a recomputation from the raw
// data. Deletes go through Rollups.DeleteObject and Rollups.DeleteRange.
// Formats: docs/format/aggregate.md; design: docs/decisions/0010.
//
// It may import tsdb and pebble (DESIGN.md §2).
//
// Concurrency: all methods are safe for concurrent use. Open starts one
// goroutine (checkpoints); Close stops it and commits the open windows. Close
// must be called once, after every other call has returned and before the
// DB's Close.
package aggregate
