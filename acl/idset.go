package acl

import (
	"slices"

	"github.com/bits-and-blooms/bitset"
)

// idSet is an immutable set of object ids: a dense bitset (possibly shared by
// many views: a user group's owned objects) or, when small, a sorted slice. A
// dense set of 100 k objects is 12.5 KiB; a sparse one 4 bytes per id.
type idSet struct {
	dense  *bitset.BitSet
	sparse []uint32
}

// Has reports whether id is in the set. Dense: one shift and mask.
func (s *idSet) Has(id uint32) bool {
	if s.dense != nil {
		return s.dense.Test(uint(id))
	}
	_, found := slices.BinarySearch(s.sparse, id)
	return found
}

// Len is the number of ids.
func (s *idSet) Len() int {
	if s.dense != nil {
		return int(s.dense.Count())
	}
	return len(s.sparse)
}

// Bytes is the memory the set holds (shared bitsets included).
func (s *idSet) Bytes() int {
	if s.dense != nil {
		return len(s.dense.Words()) * 8
	}
	return cap(s.sparse) * 4
}

// ForEach calls fn for every id in ascending order until it returns false.
func (s *idSet) ForEach(fn func(id uint32) bool) {
	if s.dense != nil {
		for i, ok := s.dense.NextSet(0); ok; i, ok = s.dense.NextSet(i + 1) {
			if !fn(uint32(i)) {
				return
			}
		}
		return
	}
	for _, id := range s.sparse {
		if !fn(id) {
			return
		}
	}
}

// sparseMax is the largest set kept sparse: a binary search over ≤ 16 ids costs
// about what a bitset test does (BenchmarkBitCheck), and 64 bytes.
const sparseMax = 16

// compact turns a privately owned dense set into a sparse one when it is tiny.
func compact(b *bitset.BitSet, max uint32) idSet {
	n := b.Count()
	if n > sparseMax {
		return idSet{dense: b}
	}
	out := make([]uint32, 0, n)
	for i, ok := b.NextSet(0); ok; i, ok = b.NextSet(i + 1) {
		out = append(out, uint32(i))
	}
	return idSet{sparse: out}
}

func sparseOf(ids []uint32) idSet {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return idSet{sparse: slices.Compact(ids)}
}

// setOf is sparseOf for tiny sets, else a private dense set.
func setOf(ids []uint32, max uint32) idSet {
	s := sparseOf(ids)
	if len(s.sparse) <= sparseMax {
		return s
	}
	b := newBits(max)
	for _, id := range s.sparse {
		b.Set(uint(id))
	}
	return idSet{dense: b}
}
