package ingest

import (
	"crypto/subtle"
	"sync"
	"sync/atomic"

	"github.com/tsgate/tsgate/acl"
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
	// tokens[id] is the last token of object id that acl.CheckToken accepted, with the
	// acl.TokenEpoch read before that check (see checkToken).
	tokens []atomic.Pointer[verifiedToken]
}

// verifiedToken is a token CheckToken accepted while acl.TokenEpoch was epoch.
type verifiedToken struct {
	tok   [32]byte
	epoch uint64
}

// checkToken reports whether token is a valid token of object id, epoch being
// acl.TokenEpoch() read before. A pair verified under the same epoch costs one load and
// a 32-byte constant-time compare (it is a secret); anything else asks acl.CheckToken (its sharded map, or a SHA-256
// the first time) and remembers the answer. Deleting a token, or disabling or deleting its
// object, moves the epoch, so the next request checks again (bbdata-v2.md §3.4).
//
// Profile that chose it (BenchmarkIngestLayersJSON, 10 000 objects, batches of 5000, so
// every measure is a distinct pair): CheckToken's locked map lookup with a 36-byte key was
// ~80 of 225 CPU-ns per measure.
func (s *objectSnapshot) checkToken(a *acl.ACL, epoch uint64, id uint32, token []byte) bool {
	if len(token) != 32 {
		return false
	}
	var slot *atomic.Pointer[verifiedToken]
	if int(id) < len(s.tokens) {
		slot = &s.tokens[id]
		if v := slot.Load(); v != nil && v.epoch == epoch && subtle.ConstantTimeCompare(v.tok[:], token) == 1 {
			return true
		}
	}
	if !a.CheckToken(id, token) {
		return false
	}
	if slot != nil {
		slot.Store(&verifiedToken{tok: [32]byte(token), epoch: epoch})
	}
	return true
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
	n := t.cat.MaxObjectID() + 1
	s := &objectSnapshot{version: v, objs: make([]objectInfo, n), tokens: make([]atomic.Pointer[verifiedToken], n)}
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
