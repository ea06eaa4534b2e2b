package catalog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Binary codec of the two records there are 100 k+ of (objects and their
// versions, group memberships): JSON decoding them made catalog.Open take most of
// the cold start (bench/RESULTS.md ## acl). Format version 2 (docs/format/catalog.md);
// version-1 (JSON) records are still read.
const recordVersion2 = 2

const (
	flagDisabled = 1 << iota
	flagPublic
	flagDeleted
	flagDescription
)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func encodeObject(o *Object) []byte {
	b := make([]byte, 0, 64+len(o.Name)+len(o.Unit))
	b = append(b, recordVersion2)
	b = binary.BigEndian.AppendUint32(b, o.ID)
	b = binary.BigEndian.AppendUint32(b, o.Tenant)
	b = binary.BigEndian.AppendUint32(b, o.Owner)
	var flags byte
	if o.Disabled {
		flags |= flagDisabled
	}
	if o.Public {
		flags |= flagPublic
	}
	if o.Deleted {
		flags |= flagDeleted
	}
	if o.Description != nil {
		flags |= flagDescription
	}
	b = append(b, byte(o.Type), flags)
	b = binary.BigEndian.AppendUint64(b, uint64(o.Created.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(o.Recorded.UnixNano()))
	b = appendString(b, o.Name)
	if o.Description != nil {
		b = appendString(b, *o.Description)
	}
	b = appendString(b, o.Unit)
	b = appendStrings(b, o.Tags)
	return appendStrings(b, o.PublicFields)
}

var errShort = errors.New("truncated record")

type reader struct {
	b   []byte
	err error
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.err = errShort
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.err = errShort
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) byte1() byte {
	if len(r.b) < 1 {
		r.err = errShort
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) strs() []string {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShort
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

func decodeObject(k, v []byte, o *Object) error {
	if len(v) > 0 && v[0] == recordVersion1 {
		return decode(k, v, o)
	}
	if len(v) == 0 || v[0] != recordVersion2 {
		return fmt.Errorf("catalog: cannot decode object record %q: unknown format version", k)
	}
	r := reader{b: v[1:]}
	o.ID, o.Tenant, o.Owner = r.u32(), r.u32(), r.u32()
	o.Type = Type(r.byte1())
	flags := r.byte1()
	o.Disabled, o.Public, o.Deleted = flags&flagDisabled != 0, flags&flagPublic != 0, flags&flagDeleted != 0
	o.Created = time.Unix(0, int64(r.u64())).UTC()
	o.Recorded = time.Unix(0, int64(r.u64())).UTC()
	o.Name = r.str()
	if flags&flagDescription != 0 {
		d := r.str()
		o.Description = &d
	}
	o.Unit = r.str()
	o.Tags = r.strs()
	o.PublicFields = r.strs()
	if r.err != nil {
		return fmt.Errorf("catalog: cannot decode object record %q: %w", k, r.err)
	}
	return nil
}

func encodeIntervals(ivs []Interval) []byte {
	b := make([]byte, 0, 2+len(ivs)*16)
	b = append(b, recordVersion2)
	b = binary.AppendUvarint(b, uint64(len(ivs)))
	for _, iv := range ivs {
		b = binary.AppendVarint(b, iv.From)
		b = binary.AppendVarint(b, iv.To)
	}
	return b
}

func decodeIntervals(k, v []byte) ([]Interval, error) {
	if len(v) > 0 && v[0] == recordVersion1 {
		var ivs []Interval
		return ivs, decode(k, v, &ivs)
	}
	if len(v) == 0 || v[0] != recordVersion2 {
		return nil, fmt.Errorf("catalog: cannot decode membership record %q: unknown format version", k)
	}
	r := reader{b: v[1:]}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return nil, fmt.Errorf("catalog: cannot decode membership record %q: %w", k, errShort)
	}
	ivs := make([]Interval, n)
	for i := range ivs {
		ivs[i].From, ivs[i].To = r.varint(), r.varint()
	}
	if r.err != nil {
		return nil, fmt.Errorf("catalog: cannot decode membership record %q: %w", k, r.err)
	}
	return ivs, nil
}
