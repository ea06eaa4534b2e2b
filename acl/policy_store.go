package acl

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"github.com/cockroachdb/pebble/v2"
)

// The Casbin policy of record lives under the first byte 'p' (docs/format/acl.md):
//
//	p r <ptype> 0x00 <v0> 0x00 <v1> …   → empty value: one rule
//	p v                                  → BE64 revision, +1 per committed change
//
// acl writes rule changes in the same batch as the state records they mirror, so
// the policy and the state can never disagree after a crash. Rules about objects
// (owner, object-group membership, disabled and public state) are the catalog's
// records and are added to the enforcer from the catalog when it is built (see
// casbin.go), not stored twice.
const (
	policyPrefix = 'p'
	policyRule   = 'r'
	policyRev    = 'v'
)

type rule []string // ptype, v0, v1, …

type ruleChange struct {
	add bool
	r   rule
}

func ruleKey(r rule) []byte {
	k := []byte{policyPrefix, policyRule}
	return append(k, strings.Join(r, "\x00")...)
}

// policyStore is the Pebble adapter of the policy of record.
type policyStore struct {
	db  *pebble.DB
	mu  sync.Mutex
	rev uint64
}

func newPolicyStore(db *pebble.DB) *policyStore {
	s := &policyStore{db: db}
	if v, closer, err := db.Get([]byte{policyPrefix, policyRev}); err == nil {
		if len(v) == 8 {
			s.rev = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	}
	return s
}

// Revision is the number of committed policy changes.
func (s *policyStore) Revision() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

func (s *policyStore) stage(b *pebble.Batch, changes []ruleChange) error {
	for _, c := range changes {
		var err error
		if c.add {
			err = b.Set(ruleKey(c.r), nil, nil)
		} else {
			err = b.Delete(ruleKey(c.r), nil)
		}
		if err != nil {
			return err
		}
	}
	s.mu.Lock()
	rev := s.rev + 1
	s.mu.Unlock()
	return b.Set([]byte{policyPrefix, policyRev}, binary.BigEndian.AppendUint64(nil, rev), nil)
}

func (s *policyStore) applied(changes []ruleChange) {
	if len(changes) == 0 {
		return
	}
	s.mu.Lock()
	s.rev++
	s.mu.Unlock()
}

// Rules returns every stored rule, in key order.
func (s *policyStore) Rules() ([]rule, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{policyPrefix, policyRule}, UpperBound: []byte{policyPrefix, policyRule + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []rule
	for it.First(); it.Valid(); it.Next() {
		out = append(out, rule(strings.Split(string(bytes.Clone(it.Key()[2:])), "\x00")))
	}
	return out, it.Error()
}

// adapter implements persist.Adapter over the store; the enforcer only loads
// through it (acl stages its own changes in its batches, so the enforcer's
// auto-save is off and the write methods are not used).
type adapter struct {
	s    *policyStore
	only string // when set, load only this domain's rules and the superusers'
}

var _ persist.Adapter = adapter{}

func (ad adapter) LoadPolicy(m model.Model) error {
	rules, err := ad.s.Rules()
	if err != nil {
		return fmt.Errorf("acl: cannot load the policy: %w", err)
	}
	for _, r := range rules {
		if ad.only != "" && !ruleInDomain(r, ad.only) {
			continue
		}
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return fmt.Errorf("acl: cannot load policy rule %q: %w", strings.Join(r, ", "), err)
		}
	}
	return nil
}

// ruleInDomain: p rules carry their domain in v1 ("*" for the superusers'), g rules
// in v2; the superusers' memberships (ug:1:admin in master) go everywhere.
func ruleInDomain(r rule, dom string) bool {
	switch r[0] {
	case "p":
		return len(r) > 2 && (r[2] == dom || r[2] == "*")
	case "g":
		return len(r) > 3 && (r[3] == dom || (r[2] == roleUG(SuperGroup, true) && r[3] == domT(MasterTenant)))
	}
	return true
}

func (ad adapter) SavePolicy(model.Model) error { return errReadOnlyAdapter }
func (ad adapter) AddPolicy(string, string, []string) error {
	return errReadOnlyAdapter
}
func (ad adapter) RemovePolicy(string, string, []string) error { return errReadOnlyAdapter }
func (ad adapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnlyAdapter
}

var errReadOnlyAdapter = fmt.Errorf("acl: BUG: the policy is written by acl transactions, not through the enforcer")

// Rule helpers: the names Casbin sees.
func subP(pid uint32) string { return fmt.Sprintf("p:%d", pid) }
func roleUG(g uint32, admin bool) string {
	if admin {
		return fmt.Sprintf("ug:%d:admin", g)
	}
	return fmt.Sprintf("ug:%d:member", g)
}
func domT(t uint32) string  { return fmt.Sprintf("t:%d", t) }
func objO(o uint32) string  { return fmt.Sprintf("o:%d", o) }
func ownG(g uint32) string  { return fmt.Sprintf("own:%d", g) }
func grpOG(g uint32) string { return fmt.Sprintf("og:%d", g) }

const (
	roleRestricted = "role:restricted"
	roleTAdmin     = "role:tadmin"
	subAnon        = "anon"
	stateDisabled  = "state:disabled"
)

func pRule(sub, dom, obj, act, kind, from, to string) rule {
	return rule{"p", sub, dom, obj, act, kind, from, to}
}

func (tx *txn) addRule(r rule)    { tx.rules = append(tx.rules, ruleChange{add: true, r: r}) }
func (tx *txn) removeRule(r rule) { tx.rules = append(tx.rules, ruleChange{add: false, r: r}) }
