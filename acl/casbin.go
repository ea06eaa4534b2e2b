package acl

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/tsgate/tsgate/catalog"
)

// ModelText is the Casbin model of record (acl/model.conf).
//
//go:embed model.conf
var ModelText string

// Enforcer is the Casbin policy of record loaded from Pebble (acl's rules) plus
// the catalog's object facts (owner, object-group membership, disabled, public),
// with the share() matcher function fed the request time. It answers /explain and
// is the oracle of the views in tests; it is never on a request's hot path (one
// Enforce scans every p rule).
type Enforcer struct {
	*casbin.Enforcer
	aclVer, catVer uint64
}

type enforcerCache struct {
	mu       sync.Mutex
	cur      *Enforcer
	byTenant map[uint32]*Enforcer
}

// Enforcer returns the enforcer for the current policy, building it when the acl or
// catalog version moved.
func (a *ACL) Enforcer() (*Enforcer, error) {
	c := &a.enforcerC
	c.mu.Lock()
	defer c.mu.Unlock()
	av, cv := a.version.Load(), a.cat.Version()
	if c.cur != nil && c.cur.aclVer == av && c.cur.catVer == cv {
		return c.cur, nil
	}
	e, err := a.buildEnforcer()
	if err != nil {
		return nil, err
	}
	e.aclVer, e.catVer = av, cv
	c.cur = e
	return e, nil
}

// EnforcerFor returns an enforcer holding only tenant's rules (and the
// superusers'): the same answers for that tenant's objects at a fraction of the
// cost (Enforce scans every p rule). Explain uses it.
func (a *ACL) EnforcerFor(tenant uint32) (*Enforcer, error) {
	c := &a.enforcerC
	c.mu.Lock()
	defer c.mu.Unlock()
	av, cv := a.version.Load(), a.cat.Version()
	if e := c.byTenant[tenant]; e != nil && e.aclVer == av && e.catVer == cv {
		return e, nil
	}
	e, err := a.buildEnforcerFor(tenant)
	if err != nil {
		return nil, err
	}
	e.aclVer, e.catVer = av, cv
	if c.byTenant == nil {
		c.byTenant = map[uint32]*Enforcer{}
	}
	c.byTenant[tenant] = e
	return e, nil
}

func (a *ACL) buildEnforcer() (*Enforcer, error) { return a.buildEnforcerFor(0) }

// buildEnforcerFor builds the enforcer of one tenant (0: all): rules from the
// Pebble policy store, object facts from the catalog.
func (a *ACL) buildEnforcerFor(tenant uint32) (*Enforcer, error) {
	m, err := model.NewModelFromString(ModelText)
	if err != nil {
		return nil, fmt.Errorf("acl: BUG: bad model: %w", err)
	}
	var ce *casbin.Enforcer
	if tenant == 0 {
		ce, err = casbin.NewEnforcer(m, adapter{s: a.policy})
	} else {
		ce, err = casbin.NewEnforcer(m, adapter{s: a.policy, only: domT(tenant)})
	}
	if err != nil {
		return nil, fmt.Errorf("acl: cannot load the policy: %w", err)
	}
	ce.EnableAutoSave(false)
	ce.AddFunction("share", a.shareFunc)
	var g2, pub [][]string
	a.cat.Scan(func(o *catalog.Object) {
		if tenant != 0 && o.Tenant != tenant {
			return
		}
		d := domT(o.Tenant)
		g2 = append(g2, []string{objO(o.ID), ownG(o.Owner), d})
		if o.Disabled {
			g2 = append(g2, []string{objO(o.ID), stateDisabled, d})
		}
		if o.Public {
			pub = append(pub, []string{subAnon, d, objO(o.ID), "read", "public", "", ""})
		}
	})
	a.cat.ScanGroups(func(g *catalog.ObjectGroup, members []uint32) {
		if tenant != 0 && g.Tenant != tenant {
			return
		}
		for _, oid := range members {
			g2 = append(g2, []string{objO(oid), grpOG(g.ID), domT(g.Tenant)})
		}
	})
	if len(g2) > 0 {
		if _, err := ce.AddNamedGroupingPolicies("g2", g2); err != nil {
			return nil, fmt.Errorf("acl: cannot add object facts: %w", err)
		}
	}
	if len(pub) > 0 {
		if _, err := ce.AddNamedPolicies("p", pub); err != nil {
			return nil, fmt.Errorf("acl: cannot add public rules: %w", err)
		}
	}
	return &Enforcer{Enforcer: ce}, nil
}

// shareFunc(obj, og, from, to, t): a share counts once from ≤ t; the object
// reaches the caller when it existed, and was in the group, at A_s = min(to, t)
// (current membership is g2's part of the matcher).
func (a *ACL) shareFunc(args ...any) (any, error) {
	if len(args) != 5 {
		return false, fmt.Errorf("share: want 5 arguments, got %d", len(args))
	}
	obj, _ := args[0].(string)
	og, _ := args[1].(string)
	from, _ := args[2].(string)
	to, _ := args[3].(string)
	tms, ok := args[4].(float64)
	if !ok {
		return false, fmt.Errorf("share: request time is %T, want a number", args[4])
	}
	t := int64(tms) * int64(time.Millisecond)
	if from != "" {
		f, err := strconv.ParseInt(from, 10, 64)
		if err != nil {
			return false, err
		}
		if f*int64(time.Millisecond) > t {
			return false, nil
		}
	}
	if from == "" && to == "" {
		return true, nil
	}
	as := t
	if to != "" {
		e, err := strconv.ParseInt(to, 10, 64)
		if err != nil {
			return false, err
		}
		if e*int64(time.Millisecond) < t {
			as = e * int64(time.Millisecond)
		}
	}
	if as == t {
		return true, nil // A_s = now: the current state (g2) decides
	}
	oid, err1 := strconv.ParseUint(strings.TrimPrefix(obj, "o:"), 10, 32)
	gid, err2 := strconv.ParseUint(strings.TrimPrefix(og, "og:"), 10, 32)
	if err1 != nil || err2 != nil {
		return false, nil
	}
	o, err := a.cat.Object(uint32(oid))
	if err != nil || o.Created.UnixNano() >= as {
		return false, nil
	}
	if !a.cat.MemberAt(uint32(gid), uint32(oid), time.Unix(0, as)) {
		return false, nil
	}
	return true, nil
}

// Verbs of Enforce and /explain: read, write (= writeValues), manage.
var Verbs = []string{"read", "write", "manage"}

// EnforceAt asks Casbin whether principal pid may verb object oid at t.
func (e *Enforcer) EnforceAt(pid uint32, tenant uint32, oid uint32, verb string, t time.Time) (bool, []string, error) {
	sub := subAnon
	if pid != AnonymousPrincipal {
		sub = subP(pid)
	}
	return e.EnforceEx(sub, domT(tenant), objO(oid), verb, float64(t.UnixMilli()))
}
