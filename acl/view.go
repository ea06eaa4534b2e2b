package acl

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bits-and-blooms/bitset"
)

// View is a principal's compiled authorization (DESIGN.md §6): which objects it may
// read and write values of, with, for objects reached only through time-bounded
// shares, the windows that clip their values and the as-of instant of their
// metadata. Immutable; shared by concurrent requests. Fetch with ACL.View or
// ACL.KeyView (never keep one across requests: a newer policy makes it stale).
type View struct {
	Principal uint32
	aclVer    uint64
	catVer    uint64
	at        int64 // compile time, ns
	until     int64 // next window boundary, ns (MaxInt64: none)

	read, write idSet
	// windows: objects reached only through time-bounded shares, sorted by oid.
	windows []winEntry

	d          *derived
	super      bool
	tenantAdm  uint32 // tenant it administers (0: none)
	restricted bool
	adminOf    []uint32 // user groups it administers
	tenant     uint32
}

// CanRead reports relation read (metadata and values) on object id.
func (v *View) CanRead(id uint32) bool { return v.read.Has(id) }

// CanWrite reports relation writeValues on object id (by apikey; tokens aside).
func (v *View) CanWrite(id uint32) bool { return v.write.Has(id) }

// CanManage reports relation manage (change the object, its tokens, its sharing).
func (v *View) CanManage(id uint32) bool {
	d := v.d
	if v.restricted || !d.exists(id) {
		return false
	}
	switch {
	case v.super:
		return true
	case v.tenantAdm != 0:
		return d.tenant[id] == v.tenantAdm
	}
	return slices.Contains(v.adminOf, d.owner[id]) && d.tenant[id] == v.tenant
}

type winEntry struct {
	oid  uint32
	asOf int64
	w    []Window
}

func (v *View) win(id uint32) *winEntry {
	i, found := slices.BinarySearchFunc(v.windows, id, func(e winEntry, id uint32) int { return int(e.oid) - int(id) })
	if !found {
		return nil
	}
	return &v.windows[i]
}

// Windows returns the windows clipping object id's values (nil: not clipped).
func (v *View) Windows(id uint32) []Window {
	if e := v.win(id); e != nil {
		return e.w
	}
	return nil
}

// AsOf returns the instant object id's metadata is served as of, when it is
// reached only through time-bounded shares (API.md §4: the latest A_s).
func (v *View) AsOf(id uint32) (time.Time, bool) {
	e := v.win(id)
	if e == nil {
		return time.Time{}, false
	}
	return time.Unix(0, e.asOf).UTC(), true
}

// ForEachReadable calls fn for every readable object id, ascending.
func (v *View) ForEachReadable(fn func(id uint32) bool) { v.read.ForEach(fn) }

// ReadCount is the number of readable objects.
func (v *View) ReadCount() int { return v.read.Len() }

// Bytes is the memory of the view's own sets (shared bitsets included).
func (v *View) Bytes() (read, write int) { return v.read.Bytes(), v.write.Bytes() }

// ValidUntil is the next time-window boundary after which the view is recompiled.
func (v *View) ValidUntil() time.Time {
	if v.until == math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(0, v.until).UTC()
}

type viewCache struct {
	mu   sync.RWMutex
	m    map[uint32]*View    // principal → view
	keys map[uint32]*KeyView // apikey → its view (valid while View and Key are current)
}

func (c *viewCache) init() {
	c.m = map[uint32]*View{}
	c.keys = map[uint32]*KeyView{}
}

// AnonymousPrincipal is the principal id of unauthenticated (public) readers.
const AnonymousPrincipal uint32 = 0

// View returns principal pid's view now (AnonymousPrincipal: public objects).
// A cached view is reused while neither the acl nor the catalog version moved and
// no window boundary passed; so a revocation that has returned is seen by every
// later call.
func (a *ACL) View(pid uint32) *View { return a.viewAt(pid, a.now()) }

// ViewAt compiles principal pid's view as of t (not cached; tests, /explain).
func (a *ACL) ViewAt(pid uint32, t time.Time) *View { return a.compileView(pid, t.UnixNano()) }

func (a *ACL) viewAt(pid uint32, t time.Time) *View {
	now := t.UnixNano()
	av, cv := a.version.Load(), a.cat.Version()
	a.views.mu.RLock()
	v := a.views.m[pid]
	a.views.mu.RUnlock()
	if v != nil && v.aclVer == av && v.catVer == cv && now >= v.at && now < v.until {
		return v
	}
	v = a.compileView(pid, now)
	a.views.mu.Lock()
	if old := a.views.m[pid]; old == nil || old.aclVer <= v.aclVer {
		a.views.m[pid] = v
	}
	a.views.mu.Unlock()
	return v
}

// RebuildAllViews compiles every principal's view now, on GOMAXPROCS goroutines
// (warm-up after Open, benchmarks). It returns the number of views.
func (a *ACL) RebuildAllViews() int {
	a.mu.RLock()
	ids := make([]uint32, 0, len(a.mu.principals))
	for id := range a.mu.principals {
		ids = append(ids, id)
	}
	a.mu.RUnlock()
	a.derivedNow()
	now := a.now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(ids)) {
					return
				}
				a.viewAt(ids[i], now)
			}
		}()
	}
	wg.Wait()
	return len(ids)
}

func (a *ACL) compileView(pid uint32, now int64) *View {
	d := a.derivedNow()
	a.mu.RLock()
	defer a.mu.RUnlock()
	v := &View{Principal: pid, aclVer: a.version.Load(), catVer: d.catVer, at: now, until: math.MaxInt64, d: d}
	p, known := a.mu.principals[pid]
	switch {
	case pid == AnonymousPrincipal || !known:
		if pid == AnonymousPrincipal {
			v.read = idSet{dense: d.public}
		}
		return v
	case a.isSuperLocked(pid):
		v.super = true
		v.read, v.write = idSet{dense: d.all}, idSet{dense: d.en}
		return v
	case a.isTenantAdminLocked(pid, p.Tenant):
		v.tenantAdm = p.Tenant
		v.read, v.write = denseOrEmpty(d.tenantAll[p.Tenant]), denseOrEmpty(d.tenantEn[p.Tenant])
		return v
	case a.isRestrictedLocked(pid):
		v.restricted = true
		var r, w []uint32
		for oid := range a.mu.links[pid] {
			if d.exists(oid) && d.tenant[oid] == p.Tenant {
				r = append(r, oid)
				if d.enabled.Test(uint(oid)) {
					w = append(w, oid)
				}
			}
		}
		v.read, v.write = setOf(r, d.max), setOf(w, d.max)
		return v
	}
	v.tenant = p.Tenant
	var readSrc, writeSrc []*bitset.BitSet
	var hits []hit
	hitGroups := 0
	for ug, admin := range a.mu.groupsOf[pid] {
		if g := a.mu.groups[ug]; g == nil || g.Tenant != p.Tenant {
			continue
		}
		gg := a.groupGrantLocked(ug, now, d)
		if gg.read != nil {
			readSrc = append(readSrc, gg.read)
		}
		if len(gg.hits) > 0 {
			hits = append(hits, gg.hits...)
			hitGroups++
		}
		v.until = min(v.until, gg.until)
		if admin {
			v.adminOf = append(v.adminOf, ug)
			if b := d.ownedWrite[ug]; b != nil {
				writeSrc = append(writeSrc, b)
			}
		}
	}
	v.write = union(writeSrc, nil, d.max)
	if len(hits) == 0 {
		v.read = union(readSrc, nil, d.max)
		return v
	}
	// Objects reached only through time-bounded shares: their windows and as-of.
	rd := unionBits(readSrc, nil, d.max)
	hits = slices.DeleteFunc(hits, func(h hit) bool { return rd.Test(uint(h.oid)) })
	if len(hits) > 0 {
		if hitGroups > 1 {
			slices.SortFunc(hits, cmpHit) // each group's hits are sorted already
		}
		ws := make([]Window, len(hits))
		for i, h := range hits {
			as := h.as
			if as == asNow {
				as = now
			}
			ws[i] = *h.w
			if n := len(v.windows); n > 0 && v.windows[n-1].oid == h.oid {
				e := &v.windows[n-1]
				e.w = ws[i-len(e.w) : i+1]
				e.asOf = max(e.asOf, as)
				continue
			}
			v.windows = append(v.windows, winEntry{oid: h.oid, asOf: as, w: ws[i : i+1]})
		}
		for _, e := range v.windows {
			rd.Set(uint(e.oid))
		}
	}
	v.read = compact(rd, d.max)
	return v
}

func cmpHit(x, y hit) int {
	if x.oid != y.oid {
		return int(x.oid) - int(y.oid)
	}
	if c := x.w.From.Compare(y.w.From); c != 0 {
		return c
	}
	return x.w.To.Compare(y.w.To)
}

// hit: object oid reached through a time-bounded share with window w, as of as
// (asNow: the request time).
type hit struct {
	oid uint32
	as  int64
	w   *Window // in its groupGrant's wins (immutable)
}

const asNow = math.MinInt64

// groupGrant is what membership (any role) of one user group grants, shared by
// every member's view: owned objects and untimed shares in one bitset, and the
// objects reached only through its time-bounded shares. Valid for the versions it
// was built from and until the next window boundary.
type groupGrant struct {
	aclVer, catVer uint64
	at, until      int64
	read           *bitset.BitSet
	hits           []hit
	wins           []Window
}

type groupGrants struct {
	mu sync.Mutex
	m  map[uint32]*groupGrant
}

// groupGrantLocked returns user group ug's grant at now (mu held for reading).
func (a *ACL) groupGrantLocked(ug uint32, now int64, d *derived) *groupGrant {
	c := &a.grants
	av := a.version.Load()
	c.mu.Lock()
	gg := c.m[ug]
	c.mu.Unlock()
	if gg != nil && gg.aclVer == av && gg.catVer == d.catVer && now >= gg.at && now < gg.until {
		return gg
	}
	gg = &groupGrant{aclVer: av, catVer: d.catVer, at: now, until: math.MaxInt64}
	tenant := a.mu.groups[ug].Tenant
	var untimed []uint32
	type timed struct {
		og uint32
		w  Window
	}
	var windowed []timed
	for og, w := range a.mu.sharesTo[ug] {
		if d.ogTenant[og] != tenant {
			continue
		}
		if !w.Timed() {
			untimed = append(untimed, d.ogMembers[og]...)
			continue
		}
		from, to := w.From.UnixNano(), w.To.UnixNano()
		if !w.From.IsZero() && from > now {
			gg.until = min(gg.until, from) // not begun: grants nothing yet
			continue
		}
		if !w.To.IsZero() && to > now {
			gg.until = min(gg.until, to)
		}
		windowed = append(windowed, timed{og, w})
	}
	owned := d.ownedRead[ug]
	switch {
	case len(untimed) == 0:
		gg.read = owned
	default:
		b := newBits(d.max)
		if owned != nil {
			b.InPlaceUnion(owned)
		}
		for _, id := range untimed {
			b.Set(uint(id))
		}
		gg.read = b
	}
	// A share s reaches an object in the group now and at A_s = min(to, now) that
	// existed at A_s.
	gg.wins = make([]Window, len(windowed))
	for i, s := range windowed {
		gg.wins[i] = s.w
		wp := &gg.wins[i]
		as := int64(asNow)
		if !s.w.To.IsZero() && s.w.To.UnixNano() < now {
			as = s.w.To.UnixNano()
		}
		for _, oid := range d.ogMembers[s.og] {
			if gg.read != nil && gg.read.Test(uint(oid)) {
				continue // ownership or an untimed share lifts every clip
			}
			if as != asNow && (d.created[oid] >= as || !a.cat.MemberAt(s.og, oid, time.Unix(0, as))) {
				continue
			}
			gg.hits = append(gg.hits, hit{oid, as, wp})
		}
	}
	slices.SortFunc(gg.hits, cmpHit)
	c.mu.Lock()
	c.m[ug] = gg
	c.mu.Unlock()
	return gg
}

func denseOrEmpty(b *bitset.BitSet) idSet {
	if b == nil {
		return idSet{}
	}
	return idSet{dense: b}
}

func unionBits(src []*bitset.BitSet, extra []uint32, max uint32) *bitset.BitSet {
	var out *bitset.BitSet
	if len(src) > 0 && src[0].Len() == uint(max)+1 {
		out = src[0].Clone() // one copy instead of zeroing then or-ing
		src = src[1:]
	} else {
		out = newBits(max)
	}
	for _, b := range src {
		out.InPlaceUnion(b)
	}
	for _, id := range extra {
		out.Set(uint(id))
	}
	return out
}

// union shares the only source bitset when there is one (a user group's), else
// builds a private set, sparse when small.
func union(src []*bitset.BitSet, extra []uint32, max uint32) idSet {
	if len(extra) == 0 {
		switch len(src) {
		case 0:
			return idSet{}
		case 1:
			return idSet{dense: src[0]}
		}
	}
	if len(src) == 0 {
		return setOf(extra, max)
	}
	return compact(unionBits(src, extra, max), max)
}
