package tsdb

import (
	"encoding/binary"
	"errors"
	"runtime/debug"
)

// encodeMeta: version u8 | created unix ms (BE i64) | creator (rest, UTF-8).
func encodeMeta(version byte, createdMs int64, creator string) []byte {
	b := make([]byte, 0, 9+len(creator))
	b = append(b, version)
	b = binary.BigEndian.AppendUint64(b, uint64(createdMs))
	return append(b, creator...)
}

func decodeMeta(b []byte) (version byte, createdMs int64, creator string, err error) {
	if len(b) < 9 {
		return 0, 0, "", errors.New("meta value too short")
	}
	return b[0], int64(binary.BigEndian.Uint64(b[1:])), string(b[9:]), nil
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return "tsgate " + bi.Main.Version
	}
	return "tsgate"
}
