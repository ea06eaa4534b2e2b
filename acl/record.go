package acl

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Key layout under the acl's first byte 'a' (docs/format/acl.md). Every value is
// one format-version byte followed by JSON.
const (
	prefix      = 'a'
	kindTenant  = 't' // a t <tenant BE32>
	kindPrinc   = 'p' // a p <principal BE32>
	kindGroup   = 'g' // a g <group BE32>
	kindMember  = 'm' // a m <group BE32> <principal BE32>    → {admin}
	kindShare   = 's' // a s <objectGroup BE32> <group BE32>  → {from,to}
	kindLink    = 'l' // a l <principal BE32> <object BE32>   → {}
	kindTAdmin  = 'A' // a A <tenant BE32> <principal BE32>   → {}
	kindToken   = 'T' // a T <token BE32>
	kindKey     = 'k' // a k <apikey BE32>
	kindCounter = 'n' // a n <name>                            → BE64 next id
	recVersion  = 1
)

func key(kind byte, parts ...uint32) []byte {
	k := make([]byte, 2, 2+4*len(parts))
	k[0], k[1] = prefix, kind
	for _, p := range parts {
		k = binary.BigEndian.AppendUint32(k, p)
	}
	return k
}

func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("BUG: acl: cannot encode %T: %v", v, err))
	}
	return append([]byte{recVersion}, b...)
}

func decode(k, v []byte, dst any) error {
	if len(v) == 0 || v[0] != recVersion {
		return fmt.Errorf("acl: cannot decode record %q: unknown format version", k)
	}
	if err := json.Unmarshal(v[1:], dst); err != nil {
		return fmt.Errorf("acl: cannot decode record %q: %w", k, err)
	}
	return nil
}
