package catalog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Key layout under the catalog's first byte 'c' (docs/format/catalog.md).
const (
	prefix         = 'c'
	kindUnit       = 'u' // c u <symbol>                      → unit record
	kindObject     = 'o' // c o <id BE32>                     → current object
	kindHistory    = 'h' // c h <id BE32> <recTime BE64 ns>   → object version
	kindGroup      = 'g' // c g <id BE32>                     → object group
	kindMember     = 'm' // c m <group BE32> <object BE32>    → membership intervals
	kindComment    = 'k' // c k <object BE32> <comment BE32>  → comment
	kindCounter    = 'n' // c n <name>                        → BE64 next id
	recordVersion1 = 1
)

func key(kind byte, parts ...uint32) []byte {
	k := make([]byte, 2, 2+4*len(parts)+8)
	k[0], k[1] = prefix, kind
	for _, p := range parts {
		k = binary.BigEndian.AppendUint32(k, p)
	}
	return k
}

func unitKey(symbol string) []byte { return append([]byte{prefix, kindUnit}, symbol...) }

func historyKey(id uint32, recNanos int64) []byte {
	return binary.BigEndian.AppendUint64(key(kindHistory, id), uint64(recNanos))
}

func counterKey(name string) []byte { return append([]byte{prefix, kindCounter}, name...) }

// encode is the value format of every catalog record: one version byte then JSON.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("BUG: catalog: cannot encode %T: %v", v, err))
	}
	return append([]byte{recordVersion1}, b...)
}

func decode(k, v []byte, dst any) error {
	if len(v) == 0 || v[0] != recordVersion1 {
		return fmt.Errorf("catalog: cannot decode record %q: unknown format version", k)
	}
	if err := json.Unmarshal(v[1:], dst); err != nil {
		return fmt.Errorf("catalog: cannot decode record %q: %w", k, err)
	}
	return nil
}
