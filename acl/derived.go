package acl

import (
	"sync"

	"github.com/bits-and-blooms/bitset"

	"github.com/tsgate/tsgate/catalog"
)

// derived holds the per-group bitsets views are unions of, computed from one
// catalog scan. Immutable once built; rebuilt when the catalog version moves.
type derived struct {
	catVer     uint64
	max        uint32
	ownedRead  map[uint32]*bitset.BitSet // user group → objects it owns
	ownedWrite map[uint32]*bitset.BitSet // user group → enabled objects it owns
	tenantAll  map[uint32]*bitset.BitSet
	tenantEn   map[uint32]*bitset.BitSet
	all, en    *bitset.BitSet
	public     *bitset.BitSet
	ogMembers  map[uint32][]uint32 // object group → current members (any order)
	ogTenant   map[uint32]uint32
	owner      []uint32 // object → owner user group (0 = no object)
	tenant     []uint32 // object → tenant
	created    []int64  // object → creation record time (ns)
	enabled    *bitset.BitSet
}

type derivedCache struct {
	mu  sync.Mutex
	cur *derived
}

func newBits(max uint32) *bitset.BitSet { return bitset.New(uint(max) + 1) }

// derivedNow returns the derived sets for the catalog's current version.
func (a *ACL) derivedNow() *derived {
	c := &a.derivedC
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.catVer == a.cat.Version() {
		return c.cur
	}
	max := a.cat.MaxObjectID()
	d := &derived{
		max: max, ownedRead: map[uint32]*bitset.BitSet{}, ownedWrite: map[uint32]*bitset.BitSet{},
		tenantAll: map[uint32]*bitset.BitSet{}, tenantEn: map[uint32]*bitset.BitSet{},
		all: newBits(max), en: newBits(max), public: newBits(max), enabled: newBits(max),
		ogMembers: map[uint32][]uint32{}, ogTenant: map[uint32]uint32{},
		owner: make([]uint32, max+1), tenant: make([]uint32, max+1), created: make([]int64, max+1),
	}
	// Objects of one owner are mostly consecutive (bulk creation): remember the
	// last owner's and tenant's sets instead of a map lookup per object.
	var lastOwner, lastTenant uint32
	var ownR, ownW, tenA, tenE *bitset.BitSet
	get := func(m map[uint32]*bitset.BitSet, k uint32) *bitset.BitSet {
		b := m[k]
		if b == nil {
			b = newBits(max)
			m[k] = b
		}
		return b
	}
	d.catVer = a.cat.Scan(func(o *catalog.Object) {
		if o.ID > max {
			return // created after MaxObjectID was read: the version check rebuilds
		}
		id := uint(o.ID)
		d.owner[o.ID], d.tenant[o.ID], d.created[o.ID] = o.Owner, o.Tenant, o.Created.UnixNano()
		if ownR == nil || o.Owner != lastOwner {
			lastOwner, ownR, ownW = o.Owner, get(d.ownedRead, o.Owner), get(d.ownedWrite, o.Owner)
		}
		if tenA == nil || o.Tenant != lastTenant {
			lastTenant, tenA, tenE = o.Tenant, get(d.tenantAll, o.Tenant), get(d.tenantEn, o.Tenant)
		}
		d.all.Set(id)
		ownR.Set(id)
		tenA.Set(id)
		if !o.Disabled {
			d.en.Set(id)
			d.enabled.Set(id)
			ownW.Set(id)
			tenE.Set(id)
		}
		if o.Public {
			d.public.Set(id)
		}
	})
	v2 := a.cat.ScanGroups(func(g *catalog.ObjectGroup, members []uint32) {
		d.ogMembers[g.ID] = members
		d.ogTenant[g.ID] = g.Tenant
	})
	if v2 != d.catVer || a.cat.MaxObjectID() != max {
		d.catVer = 0 // the catalog moved between the scans: never matches, rebuilt next time
	}
	c.cur = d
	return d
}

func (d *derived) exists(id uint32) bool { return id <= d.max && d.owner[id] != 0 }
