package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ObjectGroup groups objects of one tenant; it is owned by a user group. Member
// objects may have other owners of the same tenant (API.md §4).
type ObjectGroup struct {
	ID          uint32    `json:"id"`
	Tenant      uint32    `json:"tenant"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	Owner       uint32    `json:"owner"`
	Created     time.Time `json:"created"`
}

// Interval is a half-open membership interval [From, To) in Unix nanoseconds;
// To == 0 means still a member.
type Interval struct {
	From int64 `json:"from"`
	To   int64 `json:"to,omitempty"`
}

func (iv Interval) contains(t int64) bool { return iv.From <= t && (iv.To == 0 || t < iv.To) }

func closeInterval(ivs []Interval, at int64) []Interval {
	ivs = slices.Clone(ivs)
	if n := len(ivs); n > 0 && ivs[n-1].To == 0 {
		ivs[n-1].To = at
	}
	return ivs
}

// NewGroup is the input of CreateGroup.
type NewGroup struct {
	Tenant      uint32
	Name        string
	Description *string
	Owner       uint32
}

func (c *Catalog) setMembershipLocked(gid, oid uint32, ivs []Interval) {
	c.lists.Lock()
	c.lists.dirty[gid] = true
	c.lists.Unlock()
	m := c.mu.members[gid]
	if m == nil {
		m = map[uint32][]Interval{}
		c.mu.members[gid] = m
	}
	m[oid] = ivs
	member := len(ivs) > 0 && ivs[len(ivs)-1].To == 0
	g := c.mu.groupsOf[oid]
	if member {
		if g == nil {
			g = map[uint32]struct{}{}
			c.mu.groupsOf[oid] = g
		}
		g[gid] = struct{}{}
	} else if g != nil {
		delete(g, gid)
		if len(g) == 0 {
			delete(c.mu.groupsOf, oid)
		}
	}
}

func validateGroup(name string, nameSet bool, desc *string) error {
	f := fieldErrs{}
	if nameSet {
		if name == "" {
			f.add("name", "must not be empty")
		} else {
			checkLen(f, "name", name, MinGroupName, MaxGroupName)
		}
	}
	if desc != nil {
		checkLen(f, "description", *desc, 0, MaxDescription)
	}
	return f.err()
}

func (c *Catalog) groupNameTakenLocked(tenant uint32, name string, except uint32) bool {
	for _, g := range c.mu.groups {
		if g.Tenant == tenant && g.ID != except && strings.EqualFold(g.Name, name) {
			return true
		}
	}
	return false
}

// CreateGroup creates an object group. Names are unique per tenant (ErrDuplicate).
// hook (may be nil) runs in the batch.
func (c *Catalog) CreateGroup(n NewGroup, hook BatchHook) (ObjectGroup, error) {
	if err := validateGroup(n.Name, true, n.Description); err != nil {
		return ObjectGroup{}, err
	}
	if n.Owner == 0 {
		return ObjectGroup{}, &ValidationError{Fields: map[string]string{"owner": "must not be null"}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groupNameTakenLocked(n.Tenant, n.Name, 0) {
		return ObjectGroup{}, fmt.Errorf("catalog: value '%s' already exists: %w", n.Name, ErrDuplicate)
	}
	g := ObjectGroup{ID: c.mu.nextGrp, Tenant: n.Tenant, Name: n.Name, Description: n.Description, Owner: n.Owner,
		Created: c.recordTimeLocked().Truncate(time.Millisecond)}
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Set(key(kindGroup, g.ID), encode(&g), nil); err != nil {
		return ObjectGroup{}, err
	}
	if err := setCounter(b, "group", g.ID+1); err != nil {
		return ObjectGroup{}, err
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return ObjectGroup{}, err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return ObjectGroup{}, fmt.Errorf("catalog: cannot create object group %q: %w", n.Name, err)
	}
	c.mu.nextGrp++
	gc := g
	c.mu.groups[g.ID] = &gc
	return g, nil
}

// Group returns object group id, or ErrNotFound.
func (c *Catalog) Group(id uint32) (ObjectGroup, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	g, ok := c.mu.groups[id]
	if !ok {
		return ObjectGroup{}, fmt.Errorf("catalog: object group %d: %w", id, ErrNotFound)
	}
	return *g, nil
}

// Groups returns every object group in id order.
func (c *Catalog) Groups() []ObjectGroup {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]ObjectGroup, 0, len(c.mu.groups))
	for _, g := range c.mu.groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b ObjectGroup) int { return int(a.ID) - int(b.ID) })
	return out
}

// UpdateGroup changes name and/or description (nil = unchanged).
func (c *Catalog) UpdateGroup(id uint32, name, description *string) (ObjectGroup, error) {
	nm := ""
	if name != nil {
		nm = *name
	}
	if err := validateGroup(nm, name != nil, description); err != nil {
		return ObjectGroup{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.mu.groups[id]
	if !ok {
		return ObjectGroup{}, fmt.Errorf("catalog: object group %d: %w", id, ErrNotFound)
	}
	g := *cur
	if name != nil {
		if c.groupNameTakenLocked(g.Tenant, *name, id) {
			return ObjectGroup{}, fmt.Errorf("catalog: value '%s' already exists: %w", *name, ErrDuplicate)
		}
		g.Name = *name
	}
	if description != nil {
		d := *description
		g.Description = &d
	}
	if err := c.db.Set(key(kindGroup, id), encode(&g), syncWrite); err != nil {
		return ObjectGroup{}, fmt.Errorf("catalog: cannot update object group %d: %w", id, err)
	}
	c.mu.groups[id] = &g
	return g, nil
}

// DeleteGroup deletes object group id and ends its memberships (their history is
// kept for as-of reads). hook runs in the same batch (acl removes the shares).
func (c *Catalog) DeleteGroup(id uint32, hook BatchHook) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.groups[id]; !ok {
		return fmt.Errorf("catalog: object group %d: %w", id, ErrNotFound)
	}
	at := c.recordTimeLocked().UnixNano()
	b := c.db.NewBatch()
	defer b.Close()
	closed := map[uint32][]Interval{}
	for oid, ivs := range c.mu.members[id] {
		if n := len(ivs); n > 0 && ivs[n-1].To == 0 {
			closed[oid] = closeInterval(ivs, at)
			if err := b.Set(key(kindMember, id, oid), encodeIntervals(closed[oid]), nil); err != nil {
				return err
			}
		}
	}
	if err := b.Delete(key(kindGroup, id), nil); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot delete object group %d: %w", id, err)
	}
	for oid, ivs := range closed {
		c.setMembershipLocked(id, oid, ivs)
	}
	delete(c.mu.groups, id)
	c.version.Add(1)
	return nil
}

// AddMember puts object oid in group gid. Already a member → ErrUnchanged. Both
// must exist and share a tenant (else ErrNotFound). hook (may be nil) runs in the
// batch.
func (c *Catalog) AddMember(gid, oid uint32, hook BatchHook) error {
	return c.setMember(gid, oid, true, hook)
}

// RemoveMember takes object oid out of group gid. Not a member → ErrUnchanged.
func (c *Catalog) RemoveMember(gid, oid uint32, hook BatchHook) error {
	return c.setMember(gid, oid, false, hook)
}

func (c *Catalog) setMember(gid, oid uint32, add bool, hook BatchHook) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.mu.groups[gid]
	if !ok {
		return fmt.Errorf("catalog: object group %d: %w", gid, ErrNotFound)
	}
	o := c.objectLocked(oid)
	if o == nil && add {
		return fmt.Errorf("catalog: object %d: %w", oid, ErrNotFound)
	}
	if add && o.Tenant != g.Tenant {
		return fmt.Errorf("catalog: object %d: %w", oid, ErrNotFound)
	}
	ivs := c.mu.members[gid][oid]
	member := len(ivs) > 0 && ivs[len(ivs)-1].To == 0
	if member == add {
		return ErrUnchanged
	}
	at := c.recordTimeLocked().UnixNano()
	if add {
		ivs = append(slices.Clone(ivs), Interval{From: at})
	} else {
		ivs = closeInterval(ivs, at)
	}
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Set(key(kindMember, gid, oid), encodeIntervals(ivs), nil); err != nil {
		return err
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot store membership of object %d in group %d: %w", oid, gid, err)
	}
	c.setMembershipLocked(gid, oid, ivs)
	c.version.Add(1)
	return nil
}

// Members returns the ids of the objects currently in group gid, ascending.
func (c *Catalog) Members(gid uint32) []uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []uint32
	for oid, ivs := range c.mu.members[gid] {
		if n := len(ivs); n > 0 && ivs[n-1].To == 0 {
			out = append(out, oid)
		}
	}
	slices.Sort(out)
	return out
}

// GroupsOf returns the ids of the groups object oid is currently in, ascending.
func (c *Catalog) GroupsOf(oid uint32) []uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]uint32, 0, len(c.mu.groupsOf[oid]))
	for gid := range c.mu.groupsOf[oid] {
		out = append(out, gid)
	}
	slices.Sort(out)
	return out
}

// MemberAt reports whether object oid was in group gid just before t (record
// times < t, half-open like as-of reads).
func (c *Catalog) MemberAt(gid, oid uint32, t time.Time) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return memberAt(c.mu.members[gid][oid], t.UnixNano()-1)
}

func memberAt(ivs []Interval, t int64) bool {
	for _, iv := range ivs {
		if iv.contains(t) {
			return true
		}
	}
	return false
}

// Memberships calls fn for every (group, object, intervals) ever recorded, under a
// read lock (fn must not call back into the Catalog or keep ivs).
func (c *Catalog) Memberships(fn func(gid, oid uint32, ivs []Interval)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for gid, m := range c.mu.members {
		for oid, ivs := range m {
			fn(gid, oid, ivs)
		}
	}
}

// ScanGroups calls fn for every object group and the ids of its current members
// (in no particular order; the slice is shared and never changed afterwards — a
// membership change builds a new one — so it may be kept but not modified), under
// one read lock, and returns the Version the scan saw.
func (c *Catalog) ScanGroups(fn func(g *ObjectGroup, members []uint32)) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := c.version.Load()
	c.lists.Lock()
	defer c.lists.Unlock()
	for gid, g := range c.mu.groups {
		ms, ok := c.lists.m[gid]
		if !ok || c.lists.dirty[gid] {
			m := c.mu.members[gid]
			ms = make([]uint32, 0, len(m))
			for oid, ivs := range m {
				if n := len(ivs); n > 0 && ivs[n-1].To == 0 {
					ms = append(ms, oid)
				}
			}
			c.lists.m[gid] = ms
			delete(c.lists.dirty, gid)
		}
		fn(g, ms)
	}
	return v
}

// AddMembers puts many objects in group gid in one batch (objects already in it
// are skipped). Every object must exist in the group's tenant (else ErrNotFound,
// nothing added).
func (c *Catalog) AddMembers(gid uint32, oids []uint32, hook BatchHook) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.mu.groups[gid]
	if !ok {
		return fmt.Errorf("catalog: object group %d: %w", gid, ErrNotFound)
	}
	at := c.recordTimeLocked().UnixNano()
	b := c.db.NewBatch()
	defer b.Close()
	added := map[uint32][]Interval{}
	for _, oid := range oids {
		o := c.objectLocked(oid)
		if o == nil || o.Tenant != g.Tenant {
			return fmt.Errorf("catalog: object %d: %w", oid, ErrNotFound)
		}
		ivs, seen := added[oid]
		if !seen {
			ivs = c.mu.members[gid][oid]
		}
		if n := len(ivs); n > 0 && ivs[n-1].To == 0 {
			continue
		}
		ivs = append(slices.Clone(ivs), Interval{From: at})
		added[oid] = ivs
		if err := b.Set(key(kindMember, gid, oid), encodeIntervals(ivs), nil); err != nil {
			return err
		}
	}
	if len(added) == 0 {
		return ErrUnchanged
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot add %d objects to group %d: %w", len(added), gid, err)
	}
	for oid, ivs := range added {
		c.setMembershipLocked(gid, oid, ivs)
	}
	c.version.Add(1)
	return nil
}
