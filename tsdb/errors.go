package tsdb

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors that callers branch on. Errors returned by the package wrap
// them (use errors.Is / errors.As).
var (
	// ErrLocked means another process (or another DB in this process) holds
	// the data directory. The wrapping error names the path.
	ErrLocked = errors.New("tsdb: data directory is locked by another process")
	// ErrNewerFormat means the store was written by a newer tsgate whose
	// format this build does not know; the store is left untouched.
	ErrNewerFormat = errors.New("tsdb: store format is newer than this build supports")
	// ErrClosed is returned by operations on a closed DB.
	ErrClosed = errors.New("tsdb: closed")
	// ErrUnknownSeries: the object id has no series (HTTP 404).
	ErrUnknownSeries = errors.New("tsdb: unknown series")
	// ErrSeriesExists: CreateSeries of an id that already has a series.
	ErrSeriesExists = errors.New("tsdb: series already exists")
	// ErrWrongType: a value does not match the series' value type (HTTP 400).
	ErrWrongType = errors.New("tsdb: value type does not match the series type")
	// ErrTimestampRange: a timestamp outside [MinTimestamp, MaxTimestamp] (HTTP 400).
	ErrTimestampRange = errors.New("tsdb: timestamp out of the supported range")
	// ErrDuplicate: under DuplicatesReject, a sample whose (object, timestamp)
	// is already stored or appears twice in the batch (HTTP 400).
	ErrDuplicate = errors.New("tsdb: duplicate sample")
	// ErrValueTooLarge: a string value longer than MaxStringLen (HTTP 400).
	ErrValueTooLarge = errors.New("tsdb: string value too large")
	// ErrCorrupt marks damaged on-disk data; see *CorruptionError.
	ErrCorrupt = errors.New("tsdb: corrupt data")
)

// SampleError names the sample of an Append batch that made the whole batch
// fail. It wraps one of ErrWrongType, ErrTimestampRange, ErrUnknownSeries,
// ErrDuplicate, ErrValueTooLarge.
type SampleError struct {
	Index     int    // index of the sample in the batch
	ID        uint32 // object id
	Timestamp int64  // ms since the Unix epoch
	InBatch   bool   // for ErrDuplicate: the other sample is in the same batch
	Err       error
}

func (e *SampleError) Error() string {
	ts := time.UnixMilli(e.Timestamp).UTC().Format("2006-01-02T15:04:05.000Z")
	switch {
	case errors.Is(e.Err, ErrDuplicate) && e.InBatch:
		return fmt.Sprintf("tsdb: object %d: two or more values with the same timestamp (%s) in the batch", e.ID, ts)
	case errors.Is(e.Err, ErrDuplicate):
		return fmt.Sprintf("tsdb: object %d: a value with the same timestamp (%s) already exists", e.ID, ts)
	case errors.Is(e.Err, ErrTimestampRange):
		return fmt.Sprintf("tsdb: object %d: timestamp %d ms is outside the supported range", e.ID, e.Timestamp)
	}
	return fmt.Sprintf("tsdb: object %d at %s (sample %d): %v", e.ID, ts, e.Index, e.Err)
}

func (e *SampleError) Unwrap() error { return e.Err }

// CorruptionError reports damaged bytes in the store: what was being decoded
// and where. It wraps ErrCorrupt.
type CorruptionError struct {
	What string // "block", "WAL record", "series", "stats", "meta"
	Key  []byte // Pebble key of the damaged value
	Err  error  // the decoder's reason
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("tsdb: corrupt %s at key %x: %v", e.What, e.Key, e.Err)
}

func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }
