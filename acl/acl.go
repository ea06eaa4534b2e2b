package acl

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/tsgate/tsgate/catalog"
)

// Options configures an ACL. The zero value works.
type Options struct {
	// Logger: nil discards. acl logs nothing on the request path.
	Logger *slog.Logger
	// HashCost is the bcrypt cost of passwords and client secrets; 0 means
	// bcrypt.DefaultCost. Tests use bcrypt.MinCost.
	HashCost int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LoginKeyTTL is the lifetime of /login keys; 0 means 13 h (the original's).
	LoginKeyTTL time.Duration
	// MaxHashers bounds concurrent password checks of Login/LoginClient; beyond it
	// they return ErrBusy (429). 0 means 2 × GOMAXPROCS (API.md §4).
	MaxHashers int
}

// ACL is the authorization layer. It is safe for concurrent use.
//
// Locking: wmu serializes writers (validate → commit with pebble.Sync → apply);
// mu guards the in-memory state, write-locked only while a committed change is
// applied, so readers never wait for an fsync. A writer reads state without mu (it
// is the only one changing it). version grows inside that write lock, so a reader
// that sees the new version sees the new state: once a revoking call has
// returned, no later View call can return the old bits.
type ACL struct {
	db   *pebble.DB
	cat  *catalog.Catalog
	log  *slog.Logger
	now  func() time.Time
	cost int
	ttl  time.Duration

	hashers chan struct{}
	wmu     sync.Mutex
	version atomic.Uint64

	mu struct {
		sync.RWMutex
		tenants    map[uint32]*Tenant
		tenantName map[string]uint32
		principals map[uint32]*Principal
		loginName  map[string]uint32 // lower-case login name → id
		groups     map[uint32]*UserGroup
		members    map[uint32]map[uint32]bool     // group → principal → admin
		groupsOf   map[uint32]map[uint32]bool     // principal → group → admin
		shares     map[uint32]map[uint32]Window   // object group → user group → window
		sharesTo   map[uint32]map[uint32]Window   // user group → object group → window
		links      map[uint32]map[uint32]struct{} // principal → object
		tadmins    map[uint32]map[uint32]struct{} // tenant → principal
		tokens     map[uint32]*tokenRec
		tokensOf   map[uint32][]uint32 // object → token ids
		keys       map[uint32]*keyRec
		keyByHash  map[[32]byte]*keyRec
		keysOf     map[uint32][]uint32 // principal → key ids
		next       map[string]uint32
	}

	tokenCache tokenCache
	views      viewCache
	derivedC   derivedCache
	enforcerC  enforcerCache
	grants     groupGrants
	policy     *policyStore
	audit      auditLog
}

// Open loads the acl state from db. cat is the catalog of the same store. Call
// Bootstrap afterwards to create the master tenant and admin on an empty store.
func Open(db *pebble.DB, cat *catalog.Catalog, opts Options) (*ACL, error) {
	a := &ACL{db: db, cat: cat, log: opts.Logger, now: opts.Now, cost: opts.HashCost, ttl: opts.LoginKeyTTL}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.cost == 0 {
		a.cost = bcrypt.DefaultCost
	}
	if a.ttl == 0 {
		a.ttl = 13 * time.Hour
	}
	if opts.MaxHashers <= 0 {
		opts.MaxHashers = 2 * runtime.GOMAXPROCS(0)
	}
	a.hashers = make(chan struct{}, opts.MaxHashers)
	a.resetState()
	if err := a.load(); err != nil {
		return nil, err
	}
	a.tokenCache.init()
	a.views.init()
	a.grants.m = map[uint32]*groupGrant{}
	a.policy = newPolicyStore(db)
	if err := a.audit.init(db); err != nil {
		return nil, err
	}
	a.version.Store(1)
	return a, nil
}

// Close releases nothing today (the ACL owns no goroutine; db belongs to the
// caller); it exists so callers can treat the ACL like the other subsystems.
func (a *ACL) Close() error { return nil }

// Catalog returns the catalog the ACL was opened with.
func (a *ACL) Catalog() *catalog.Catalog { return a.cat }

// Version grows after every committed authorization change of the ACL itself
// (catalog changes have their own counter).
func (a *ACL) Version() uint64 { return a.version.Load() }

func (a *ACL) resetState() {
	s := &a.mu
	s.tenants = map[uint32]*Tenant{}
	s.tenantName = map[string]uint32{}
	s.principals = map[uint32]*Principal{}
	s.loginName = map[string]uint32{}
	s.groups = map[uint32]*UserGroup{}
	s.members = map[uint32]map[uint32]bool{}
	s.groupsOf = map[uint32]map[uint32]bool{}
	s.shares = map[uint32]map[uint32]Window{}
	s.sharesTo = map[uint32]map[uint32]Window{}
	s.links = map[uint32]map[uint32]struct{}{}
	s.tadmins = map[uint32]map[uint32]struct{}{}
	s.tokens = map[uint32]*tokenRec{}
	s.tokensOf = map[uint32][]uint32{}
	s.keys = map[uint32]*keyRec{}
	s.keyByHash = map[[32]byte]*keyRec{}
	s.keysOf = map[uint32][]uint32{}
	s.next = map[string]uint32{}
}

func (a *ACL) load() error {
	it, err := a.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefix}, UpperBound: []byte{prefix + 1}})
	if err != nil {
		return fmt.Errorf("acl: cannot read the store: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) < 2 {
			continue
		}
		var err error
		switch k[1] {
		case kindTenant:
			t := new(Tenant)
			if err = decode(k, v, t); err == nil {
				a.putTenantLocked(t)
			}
		case kindPrinc:
			p := new(Principal)
			if err = decode(k, v, p); err == nil {
				a.putPrincipalLocked(p)
			}
		case kindGroup:
			g := new(UserGroup)
			if err = decode(k, v, g); err == nil {
				a.mu.groups[g.ID] = g
			}
		case kindMember:
			var m struct{ Admin bool }
			if err = decode(k, v, &m); err == nil {
				a.setMemberLocked(be32(k[2:]), be32(k[6:]), m.Admin, true)
			}
		case kindShare:
			var w Window
			if err = decode(k, v, &w); err == nil {
				a.setShareLocked(be32(k[2:]), be32(k[6:]), w, true)
			}
		case kindLink:
			a.setLinkLocked(be32(k[2:]), be32(k[6:]), true)
		case kindTAdmin:
			a.setTenantAdminLocked(be32(k[2:]), be32(k[6:]), true)
		case kindToken:
			t := new(tokenRec)
			if err = decode(k, v, t); err == nil {
				a.putTokenLocked(t)
			}
		case kindKey:
			r := new(keyRec)
			if err = decode(k, v, r); err == nil {
				a.putKeyLocked(r)
			}
		case kindCounter:
			if len(v) != 8 {
				return fmt.Errorf("acl: bad counter %q", k)
			}
			a.mu.next[string(k[2:])] = uint32(binary.BigEndian.Uint64(v))
		}
		if err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("acl: cannot read the store: %w", err)
	}
	return nil
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// --- transactions -------------------------------------------------------------

// txn is one authorization change: its writes (state records, policy rules, audit
// entries) go in one Pebble batch committed with pebble.Sync; its apply functions
// then run under mu's write lock and the version grows.
type txn struct {
	a     *ACL
	b     *pebble.Batch
	apply []func()
	rules []ruleChange
	now   time.Time
	audit []AuditEntry
	dirty bool // views must be recompiled
}

// write runs fn as one transaction. fn validates (reading state without mu: wmu
// is held) and stages writes; a nil return commits.
func (a *ACL) write(fn func(tx *txn) error) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	tx := &txn{a: a, b: a.db.NewBatch(), now: a.now()}
	defer tx.b.Close()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

func (tx *txn) commit() error {
	if tx.b.Empty() && len(tx.apply) == 0 {
		return nil
	}
	if err := tx.stageInto(tx.b); err != nil {
		return err
	}
	if err := tx.b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("acl: cannot commit an authorization change: %w", err)
	}
	tx.applyMem()
	return nil
}

// stageInto adds the policy rule changes and audit entries of tx to b, and tx's
// own writes when b is another package's batch (catalog's).
func (tx *txn) stageInto(b *pebble.Batch) error {
	a := tx.a
	if b != tx.b {
		if err := b.Apply(tx.b, nil); err != nil {
			return err
		}
	}
	if len(tx.rules) > 0 {
		if err := a.policy.stage(b, tx.rules); err != nil {
			return err
		}
	}
	return a.audit.stage(b, tx.audit)
}

// applyMem publishes a committed tx: state changes under mu, then the version.
func (tx *txn) applyMem() {
	a := tx.a
	a.mu.Lock()
	for _, f := range tx.apply {
		f()
	}
	if tx.dirty {
		a.version.Add(1)
	}
	a.mu.Unlock()
	a.policy.applied(tx.rules)
}

// writeVia runs fn like write, but commits through op, a catalog change that
// calls hook with its own batch (so catalog and acl records commit together).
func (a *ACL) writeVia(fn func(tx *txn) error, op func(hook catalog.BatchHook) error) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	tx := &txn{a: a, b: a.db.NewBatch(), now: a.now()}
	defer tx.b.Close()
	if err := fn(tx); err != nil {
		return err
	}
	if err := op(tx.stageInto); err != nil {
		return err
	}
	tx.applyMem()
	return nil
}

func (tx *txn) set(k []byte, v any) {
	if err := tx.b.Set(k, encode(v), nil); err != nil {
		panic(fmt.Sprintf("BUG: acl: batch set: %v", err)) // in-memory batch: cannot fail
	}
}

func (tx *txn) del(k []byte) {
	if err := tx.b.Delete(k, nil); err != nil {
		panic(fmt.Sprintf("BUG: acl: batch delete: %v", err))
	}
}

func (tx *txn) do(f func()) { tx.apply = append(tx.apply, f) }

// nextID allocates the next id of a kind ("tenant", "principal", "group",
// "token", "apikey"); ids start at 1.
func (tx *txn) nextID(kind string) uint32 {
	a := tx.a
	id := a.mu.next[kind]
	if id == 0 {
		id = 1
	}
	// Allocation happens under wmu; record the counter now (readers never use it).
	a.mu.next[kind] = id + 1
	if err := tx.b.Set(append([]byte{prefix, kindCounter}, kind...), binary.BigEndian.AppendUint64(nil, uint64(id+1)), nil); err != nil {
		panic(fmt.Sprintf("BUG: acl: batch set: %v", err))
	}
	return id
}

// rollbackIDs is not needed: an id burnt by a failed transaction is simply skipped.
