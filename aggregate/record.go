package aggregate

import (
	"errors"
	"fmt"
)

// hourAcc is one hour's four quarter accumulators.
type hourAcc [4]Row

func (h *hourAcc) reset(hour int64) {
	for i := range h {
		h[i] = Row{Start: hour + int64(i)*quarterMs}
	}
}

// row merges the quarters into the hour row.
func (h *hourAcc) row(hour int64) Row {
	r := Row{Start: hour}
	for i := range h {
		r.Merge(&h[i])
	}
	return r
}

func (h *hourAcc) empty() bool {
	return h[0].Count == 0 && h[1].Count == 0 && h[2].Count == 0 && h[3].Count == 0
}

// appendHourRecord encodes an hour record: version | hour row | quarter mask
// (bit i: quarter i present) | present quarter rows in order.
func appendHourRecord(dst []byte, hour int64, h *hourAcc) []byte {
	hr := h.row(hour)
	dst = append(dst, recordVer)
	dst = appendRow(dst, &hr)
	var mask byte
	for i := range h {
		if h[i].Count > 0 {
			mask |= 1 << i
		}
	}
	dst = append(dst, mask)
	for i := range h {
		if h[i].Count > 0 {
			dst = appendRow(dst, &h[i])
		}
	}
	return dst
}

// decodeHourRow reads only the hour row of a record.
func decodeHourRow(r *Row, hour int64, v []byte) error {
	if len(v) < 1 || v[0] != recordVer {
		return errBadRecordVersion(v)
	}
	_, err := decodeRow(r, hour, v[1:])
	return err
}

// decodeHourRecord reads a record's quarters into h (absent ones empty).
func decodeHourRecord(h *hourAcc, hour int64, v []byte) error {
	if len(v) < 1 || v[0] != recordVer {
		return errBadRecordVersion(v)
	}
	var hr Row
	p, err := decodeRow(&hr, hour, v[1:])
	if err != nil {
		return err
	}
	if len(p) < 1 {
		return errBadRow
	}
	mask := p[0]
	p = p[1:]
	h.reset(hour)
	for i := range h {
		if mask&(1<<i) == 0 {
			continue
		}
		if p, err = decodeRow(&h[i], hour+int64(i)*quarterMs, p); err != nil {
			return err
		}
	}
	if len(p) != 0 {
		return errors.New("trailing bytes after the quarters")
	}
	return nil
}

// appendDayRecord encodes a day record: version | day row.
func appendDayRecord(dst []byte, r *Row) []byte {
	dst = append(dst, recordVer)
	return appendRow(dst, r)
}

func decodeDayRecord(r *Row, day int64, v []byte) error {
	if len(v) < 1 || v[0] != recordVer {
		return errBadRecordVersion(v)
	}
	p, err := decodeRow(r, day, v[1:])
	if err == nil && len(p) != 0 {
		err = errors.New("trailing bytes after the day row")
	}
	return err
}

func errBadRecordVersion(v []byte) error {
	if len(v) == 0 {
		return errors.New("empty record")
	}
	return fmt.Errorf("record version %d, this build reads %d", v[0], recordVer)
}

// CorruptionError reports a rollup record that cannot be decoded. It does
// not stop ingest; Rebuild rewrites every record.
type CorruptionError struct {
	Key []byte
	Err error
}

func (e *CorruptionError) Error() string {
	id, kind, start, _ := parseRecKey(e.Key)
	return fmt.Sprintf("aggregate: corrupt %c record of object %d at %s: %v", kind, id, fmtTs(start), e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }
