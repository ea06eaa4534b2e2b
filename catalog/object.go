package catalog

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Public fields an object may expose to anonymous readers (API.md §3.3). "id" is
// always public for a public object.
var PublicFieldNames = []string{"name", "description", "unit", "tags", "values"}

// Object is one version of an object's metadata. Values returned by the Catalog are
// copies; changing them changes nothing.
type Object struct {
	ID          uint32  `json:"id"`
	Tenant      uint32  `json:"tenant"`
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Unit        string  `json:"unit"`
	Type        Type    `json:"type"`
	// Tags is a sorted set.
	Tags     []string  `json:"tags,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`
	Owner    uint32    `json:"owner"` // owner user group
	Created  time.Time `json:"created"`
	Public   bool      `json:"public,omitempty"`
	// PublicFields lists which of PublicFieldNames anonymous readers see.
	PublicFields []string `json:"publicFields,omitempty"`
	// Recorded is the record time of this version (history, as-of reads).
	Recorded time.Time `json:"recorded"`
	// Deleted marks the tombstone version written when the object is deleted.
	Deleted bool `json:"deleted,omitempty"`
}

// PublicField reports whether field is readable anonymously.
func (o *Object) PublicField(field string) bool {
	return o.Public && (field == "id" || slices.Contains(o.PublicFields, field))
}

func (o *Object) clone() Object {
	c := *o
	c.Tags = slices.Clone(o.Tags)
	c.PublicFields = slices.Clone(o.PublicFields)
	if o.Description != nil {
		d := *o.Description
		c.Description = &d
	}
	return c
}

// NewObject is the input of CreateObjects (PUT /objects, PUT /objects/bulk).
type NewObject struct {
	Tenant      uint32
	Name        string
	Description *string
	Owner       uint32 // owner user group (its tenant is Tenant; acl checks both)
	UnitSymbol  string
	Tags        []string
}

// Limits of bbdata-v2.md §2.6.
const (
	MaxObjectName  = 60
	MaxDescription = 255
	MaxTag         = 25
	MinGroupName   = 3
	MaxGroupName   = 45
)

// CreateHook runs inside the batch that creates objects, before it is committed:
// the api layer creates each object's tsdb series in it (tsdb.CreateSeries), so
// the objects and their series exist together or not at all.
type CreateHook func(b *pebble.Batch, created []Object) error

// BatchHook adds writes of another package to a catalog batch (acl deletes an
// object's tokens in the batch that disables it).
type BatchHook func(b *pebble.Batch) error

func validateNew(f fieldErrs, path string, n *NewObject) {
	if strings.TrimSpace(n.Name) == "" && n.Name == "" {
		f.add(path+"name", "must not be empty")
	} else {
		checkLen(f, path+"name", n.Name, 1, MaxObjectName)
	}
	if n.Description != nil {
		checkLen(f, path+"description", *n.Description, 0, MaxDescription)
	}
	if n.Owner == 0 {
		f.add(path+"owner", "must not be null")
	}
	if n.UnitSymbol == "" {
		f.add(path+"unitSymbol", "must not be empty")
	}
	for i, t := range n.Tags {
		if t == "" {
			f.add(fmt.Sprintf("%stags[%d]", path, i), "must not be empty")
		} else {
			checkLen(f, fmt.Sprintf("%stags[%d]", path, i), t, 1, MaxTag)
		}
	}
}

func normTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	return slices.Compact(out)
}

// CreateObjects validates news, allocates dense ids, runs hook (may be nil) in the
// same batch and commits it with pebble.Sync: all objects are created or none.
// Validation errors name fields ("name", or "[i].name" for more than one object);
// all objects of one call must have one owner; an unknown unit is a
// *ValidationError "Object '<name>': unit '<sym>' does not exist.".
func (c *Catalog) CreateObjects(news []NewObject, hook CreateHook) ([]Object, error) {
	if err := ValidateNewObjects(news); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	objs := make([]Object, len(news))
	rec := c.recordTimeLocked()
	for i, n := range news {
		u, ok := c.mu.units[n.UnitSymbol]
		if !ok {
			return nil, Invalid("Object '%s': unit '%s' does not exist.", n.Name, n.UnitSymbol)
		}
		objs[i] = Object{
			ID: c.mu.nextObj + uint32(i), Tenant: n.Tenant, Name: n.Name, Description: n.Description,
			Unit: u.Symbol, Type: u.Type, Tags: normTags(n.Tags), Owner: n.Owner,
			Created: rec, Recorded: rec,
		}
	}
	b := c.db.NewBatch()
	defer b.Close()
	for i := range objs {
		if err := c.putObject(b, &objs[i]); err != nil {
			return nil, err
		}
	}
	next := c.mu.nextObj + uint32(len(objs))
	if err := setCounter(b, "object", next); err != nil {
		return nil, err
	}
	if hook != nil {
		if err := hook(b, slices.Clone(objs)); err != nil {
			return nil, err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return nil, fmt.Errorf("catalog: cannot commit %d new objects: %w", len(objs), err)
	}
	c.mu.nextObj = next
	for i := range objs {
		o := objs[i].clone()
		c.mu.objects = append(c.mu.objects, &o)
	}
	c.version.Add(1)
	return objs, nil
}

// ValidateNewObjects checks news without touching the store (field limits, one
// owner): the first check of PUT /objects, before the owner and the unit.
func ValidateNewObjects(news []NewObject) error {
	if len(news) == 0 {
		return Invalid("array body must contain at least one item.")
	}
	f := fieldErrs{}
	for i := range news {
		path := ""
		if len(news) > 1 {
			path = fmt.Sprintf("[%d].", i)
		}
		validateNew(f, path, &news[i])
	}
	if err := f.err(); err != nil {
		return err
	}
	for i := range news {
		if news[i].Owner != news[0].Owner || news[i].Tenant != news[0].Tenant {
			return Invalid("cannot create objects in bulk with different owners")
		}
	}
	return nil
}

// putObject writes the current record and a history version of o.
func (c *Catalog) putObject(b *pebble.Batch, o *Object) error {
	v := encodeObject(o)
	if err := b.Set(key(kindObject, o.ID), v, nil); err != nil {
		return err
	}
	return b.Set(historyKey(o.ID, o.Recorded.UnixNano()), v, nil)
}

// Object returns the current version of object id, or ErrNotFound.
func (c *Catalog) Object(id uint32) (Object, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o := c.objectLocked(id)
	if o == nil {
		return Object{}, fmt.Errorf("catalog: object %d: %w", id, ErrNotFound)
	}
	return o.clone(), nil
}

func (c *Catalog) objectLocked(id uint32) *Object {
	if id == 0 || id >= uint32(len(c.mu.objects)) {
		return nil
	}
	return c.mu.objects[id]
}

// ObjectAsOf returns the version of object id recorded strictly before t
// (API.md §4, half-open), or ErrNotFound when it did not exist then.
func (c *Catalog) ObjectAsOf(id uint32, t time.Time) (Object, error) {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: historyKey(id, 0), UpperBound: historyKey(id, t.UnixNano())})
	if err != nil {
		return Object{}, fmt.Errorf("catalog: cannot read history of object %d: %w", id, err)
	}
	defer it.Close()
	if !it.Last() {
		if err := it.Error(); err != nil {
			return Object{}, fmt.Errorf("catalog: cannot read history of object %d: %w", id, err)
		}
		return Object{}, fmt.Errorf("catalog: object %d as of %s: %w", id, t.UTC().Format(time.RFC3339Nano), ErrNotFound)
	}
	var o Object
	if err := decodeObject(it.Key(), it.Value(), &o); err != nil {
		return Object{}, err
	}
	if o.Deleted {
		return Object{}, fmt.Errorf("catalog: object %d as of %s: %w", id, t.UTC().Format(time.RFC3339Nano), ErrNotFound)
	}
	return o, nil
}

// History returns every version of object id, oldest first (tombstone included).
func (c *Catalog) History(id uint32) ([]Object, error) {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: key(kindHistory, id), UpperBound: key(kindHistory, id+1)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Object
	for it.First(); it.Valid(); it.Next() {
		var o Object
		if err := decodeObject(it.Key(), it.Value(), &o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, it.Error()
}

// MaxObjectID is the largest id ever allocated (bitsets are sized by it).
func (c *Catalog) MaxObjectID() uint32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.nextObj - 1
}

// ForEachObject calls fn for every existing object in id order until it returns
// false. fn gets a pointer to the catalog's own copy: it must not keep or change it,
// and must not call back into the Catalog (a read lock is held).
func (c *Catalog) ForEachObject(fn func(o *Object) bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, o := range c.mu.objects {
		if o != nil && !fn(o) {
			return
		}
	}
}

// mutateObject applies fn to a copy of object id and stores it as a new version.
// fn returns false when nothing changes (→ ErrUnchanged). auth marks a change that
// can alter authorization (bumps Version).
func (c *Catalog) mutateObject(id uint32, auth bool, hook BatchHook, fn func(o *Object) (bool, error)) (Object, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.objectLocked(id)
	if cur == nil {
		return Object{}, fmt.Errorf("catalog: object %d: %w", id, ErrNotFound)
	}
	o := cur.clone()
	changed, err := fn(&o)
	if err != nil {
		return Object{}, err
	}
	if !changed {
		return o, ErrUnchanged
	}
	o.Recorded = c.recordTimeLocked()
	b := c.db.NewBatch()
	defer b.Close()
	if err := c.putObject(b, &o); err != nil {
		return Object{}, err
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return Object{}, err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return Object{}, fmt.Errorf("catalog: cannot store object %d: %w", id, err)
	}
	stored := o.clone()
	c.mu.objects[id] = &stored
	if auth {
		c.version.Add(1)
	}
	return o, nil
}

// UpdateObject changes name and/or description (nil = unchanged; POST
// /objects/{id}). Nothing to change → the object and ErrUnchanged.
func (c *Catalog) UpdateObject(id uint32, name, description *string) (Object, error) {
	f := fieldErrs{}
	if name != nil {
		checkLen(f, "name", *name, 1, MaxObjectName)
	}
	if description != nil {
		checkLen(f, "description", *description, 0, MaxDescription)
	}
	if err := f.err(); err != nil {
		return Object{}, err
	}
	return c.mutateObject(id, false, nil, func(o *Object) (bool, error) {
		changed := false
		if name != nil && *name != o.Name {
			o.Name, changed = *name, true
		}
		if description != nil && (o.Description == nil || *o.Description != *description) {
			d := *description
			o.Description, changed = &d, true
		}
		return changed, nil
	})
}

// AddTags adds tags; none new → ErrUnchanged.
func (c *Catalog) AddTags(id uint32, tags []string) (Object, error) {
	f := fieldErrs{}
	for i, t := range tags {
		checkLen(f, fmt.Sprintf("tags[%d]", i), t, 1, MaxTag)
	}
	if err := f.err(); err != nil {
		return Object{}, err
	}
	return c.mutateObject(id, false, nil, func(o *Object) (bool, error) {
		n := len(o.Tags)
		o.Tags = normTags(append(o.Tags, tags...))
		return len(o.Tags) != n, nil
	})
}

// RemoveTags removes tags; none removed → ErrUnchanged.
func (c *Catalog) RemoveTags(id uint32, tags []string) (Object, error) {
	return c.mutateObject(id, false, nil, func(o *Object) (bool, error) {
		n := len(o.Tags)
		o.Tags = slices.DeleteFunc(o.Tags, func(t string) bool { return slices.Contains(tags, t) })
		if len(o.Tags) == 0 {
			o.Tags = nil
		}
		return len(o.Tags) != n, nil
	})
}

// SetEnabled enables or disables object id; same state → ErrUnchanged. hook runs
// in the same batch (acl deletes the object's tokens when disabling).
func (c *Catalog) SetEnabled(id uint32, enabled bool, hook BatchHook) (Object, error) {
	return c.mutateObject(id, true, hook, func(o *Object) (bool, error) {
		if o.Disabled == !enabled {
			return false, nil
		}
		o.Disabled = !enabled
		return true, nil
	})
}

// SetPublic sets the public-read flag and the public fields (a subset of
// PublicFieldNames); same state → ErrUnchanged. hook (may be nil) runs in the batch.
func (c *Catalog) SetPublic(id uint32, public bool, fields []string, hook BatchHook) (Object, error) {
	for _, fl := range fields {
		if !slices.Contains(PublicFieldNames, fl) {
			return Object{}, &ValidationError{Fields: map[string]string{"fields": fmt.Sprintf("unknown field %q", fl)}}
		}
	}
	fields = normTags(fields)
	if !public {
		fields = nil
	}
	return c.mutateObject(id, true, hook, func(o *Object) (bool, error) {
		if o.Public == public && slices.Equal(o.PublicFields, fields) {
			return false, nil
		}
		o.Public, o.PublicFields = public, fields
		return true, nil
	})
}

// DeleteObject deletes object id with its comments and closes its group
// memberships (history is kept: a tombstone version ends it). hook runs in the
// same batch (acl deletes tokens and links, tsdb the series).
func (c *Catalog) DeleteObject(id uint32, hook BatchHook) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.objectLocked(id)
	if cur == nil {
		return fmt.Errorf("catalog: object %d: %w", id, ErrNotFound)
	}
	rec := c.recordTimeLocked()
	tomb := cur.clone()
	tomb.Deleted, tomb.Recorded = true, rec
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Delete(key(kindObject, id), nil); err != nil {
		return err
	}
	if err := b.Set(historyKey(id, rec.UnixNano()), encodeObject(&tomb), nil); err != nil {
		return err
	}
	closed := map[uint32][]Interval{}
	for gid := range c.mu.groupsOf[id] {
		ivs := closeInterval(c.mu.members[gid][id], rec.UnixNano())
		closed[gid] = ivs
		if err := b.Set(key(kindMember, gid, id), encodeIntervals(ivs), nil); err != nil {
			return err
		}
	}
	for _, cm := range c.mu.comments[id] {
		if err := b.Delete(key(kindComment, id, cm.ID), nil); err != nil {
			return err
		}
	}
	if hook != nil {
		if err := hook(b); err != nil {
			return err
		}
	}
	if err := b.Commit(syncWrite); err != nil {
		return fmt.Errorf("catalog: cannot delete object %d: %w", id, err)
	}
	c.mu.objects[id] = nil
	for gid, ivs := range closed {
		c.setMembershipLocked(gid, id, ivs)
	}
	delete(c.mu.comments, id)
	c.version.Add(1)
	return nil
}

// Scan calls fn for every existing object in id order under one read lock (fn
// must not call back into the Catalog, nor keep o) and returns the Version the
// scan saw.
func (c *Catalog) Scan(fn func(o *Object)) uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v := c.version.Load()
	for _, o := range c.mu.objects {
		if o != nil {
			fn(o)
		}
	}
	return v
}
