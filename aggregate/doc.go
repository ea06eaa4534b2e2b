// Package aggregate maintains the 15-minute, 1-hour and 1-day rollup rows of
// every numeric (float and int) object, exact under late data.
//
// A row holds count, sum, mean and M2 (population variance M2/count), min,
// max, and the first and last values with their timestamps; rows merge with
// Chan's parallel formula; NaN and ±Inf are left out. Windows are UTC-aligned.
//
// Stored rows describe exactly the flushed samples: tsdb calls Rollups (a
// tsdb.RowsObserver) inside every flush and delete, and the row groups are
// written in the same Pebble batch as the blocks, so a crash leaves both or
// neither. Reads (Rows) fold in the head's samples, so a row is exact as soon
// as the write is acknowledged; the write path does no rollup work. Late and
// overwriting samples make their UTC day be recomputed at flush (and their
// window at read) from raw data. Formats: docs/format/aggregate.md; design:
// docs/decisions/0013.
//
// It may import tsdb and pebble (DESIGN.md §2).
//
// Concurrency: all methods are safe for concurrent use. Close detaches from
// the DB; it must be called once, after every other call has returned and
// before the DB's Close.
package aggregate
