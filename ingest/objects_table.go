package ingest

import (
	"sync"
	"sync/atomic"

	"github.com/tsgate/tsgate/catalog"
)

// objectInfo is what the write path needs of an object, without copying its metadata.
type objectInfo struct {
	exists   bool
	disabled bool
	typ      catalog.Type
	owner    uint32
	tenant   uint32
	unit     string // symbol
	unitName string
}

// objectTable is a dense, id-indexed snapshot of the catalog for the write path. It is rebuilt
// when the catalog's version moves (objects are created, changed or deleted rarely compared
// with writes), so a measure costs a slice index instead of a locked map lookup and a copy.
type objectTable struct {
	cat *catalog.Catalog
	mu  sync.Mutex // serializes rebuilds
	cur atomic.Pointer[objectSnapshot]
}

type objectSnapshot struct {
	version uint64
	objs    []objectInfo
}

// snapshot returns the current table, rebuilding it if the catalog changed since.
func (t *objectTable) snapshot() *objectSnapshot {
	v := t.cat.Version()
	if s := t.cur.Load(); s != nil && s.version == v {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.cur.Load(); s != nil && s.version == t.cat.Version() {
		return s
	}
	v = t.cat.Version()
	units := map[string]string{}
	for _, u := range t.cat.Units() {
		units[u.Symbol] = u.Name
	}
	s := &objectSnapshot{version: v, objs: make([]objectInfo, t.cat.MaxObjectID()+1)}
	t.cat.ForEachObject(func(o *catalog.Object) bool {
		if int(o.ID) < len(s.objs) {
			s.objs[o.ID] = objectInfo{exists: true, disabled: o.Disabled, typ: o.Type, owner: o.Owner,
				tenant: o.Tenant, unit: o.Unit, unitName: units[o.Unit]}
		}
		return true
	})
	t.cur.Store(s)
	return s
}

func (s *objectSnapshot) get(id uint32) *objectInfo {
	if int(id) < len(s.objs) && s.objs[id].exists {
		return &s.objs[id]
	}
	return nil
}
