package aggregate

import (
	"encoding/binary"
	"errors"
)

// An intent record is written (without waiting for fsync) before the samples
// of an Append reach tsdb, so tsdb's fsync makes it durable with them. It
// names the (object, UTC day) pairs the samples touch. Every sample in tsdb
// is either reflected in the committed rollup records or covered by an
// intent; recovery recomputes the covered days from raw data, and a
// checkpoint, which commits every object's open state, deletes the intents
// whose Append has been observed.
//
// Encoding (docs/format/aggregate.md): version | ngroups uvarint | per group:
// first day (days since the epoch) uvarint | last − first uvarint | nruns
// uvarint | runs of consecutive ids: (start − previous run end) zigzag varint,
// length uvarint (an id may appear in several runs).
// appendIntentHeader starts an intent of ngroups groups, the first one
// (dayLo, dayHi) with nruns runs, which the caller appends.
func appendIntentHeader(dst []byte, dayLo, dayHi int64, ngroups, nruns int) []byte {
	dst = append(dst, intentVer)
	dst = binary.AppendUvarint(dst, uint64(ngroups))
	return appendIntentGroup(dst, dayLo, dayHi, nruns)
}

// appendIntentGroup starts a group; its nruns runs follow.
func appendIntentGroup(dst []byte, dayLo, dayHi int64, nruns int) []byte {
	dst = binary.AppendUvarint(dst, uint64(dayLo))
	dst = binary.AppendUvarint(dst, uint64(dayHi-dayLo))
	return binary.AppendUvarint(dst, uint64(nruns))
}

var errBadIntent = errors.New("bad intent record")

// decodeIntent calls fn for every (id, first day, last day) of an intent.
func decodeIntent(p []byte, fn func(id uint32, dayLo, dayHi int64)) error {
	if len(p) < 1 || p[0] != intentVer {
		return errBadIntent
	}
	p = p[1:]
	uv := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	ng, ok := uv()
	if !ok {
		return errBadIntent
	}
	for ; ng > 0; ng-- {
		lo, ok1 := uv()
		span, ok2 := uv()
		nruns, ok3 := uv()
		if !ok1 || !ok2 || !ok3 {
			return errBadIntent
		}
		prevEnd := int64(0)
		for ; nruns > 0; nruns-- {
			d, n := binary.Varint(p)
			if n <= 0 {
				return errBadIntent
			}
			p = p[n:]
			l, ok := uv()
			if !ok || l > 1<<32 {
				return errBadIntent
			}
			start := prevEnd + d
			if start < 0 || start+int64(l) > 1<<32 {
				return errBadIntent
			}
			for k := int64(0); k < int64(l); k++ {
				fn(uint32(start+k), int64(lo), int64(lo+span))
			}
			prevEnd = start + int64(l)
		}
	}
	if len(p) != 0 {
		return errBadIntent
	}
	return nil
}
