package acl

import (
	"flag"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/tsgate/tsgate/catalog"
)

var oracleSeed = flag.Int64("oracle.seed", 0, "seed of the first oracle world (0: time-based)")
var oracleWorlds = flag.Int("oracle.worlds", 3, "number of oracle worlds")

// bf is the independent brute-force model of the oracle test: a plain record of
// what the world generator asked for, judged by the rules of DESIGN.md §6 and
// API.md §4 written out directly (no bitsets, no Casbin).
type bf struct {
	tenantOf map[uint32]uint32        // principal → tenant
	client   map[uint32][]Scope       // client → bound scopes (nil: none)
	gTenant  map[uint32]uint32        // user group → tenant
	member   map[[2]uint32]bool       // (group, principal) → admin
	tadmin   map[[2]uint32]bool       // (tenant, principal)
	links    map[[2]uint32]bool       // (principal, object)
	objs     map[uint32]*bfObj        // object → facts
	ogTenant map[uint32]uint32        // object group → tenant
	ogHist   map[[2]uint32][][2]int64 // (og, object) → [add, remove) ns, remove 0 = open
	shares   map[[2]uint32]Window     // (og, ug) → window
	keys     []*Apikey
}

type bfObj struct {
	tenant, owner    uint32
	disabled, public bool
	created          int64
}

func (w *bf) super(p uint32) bool { return w.member[[2]uint32{SuperGroup, p}] }

func (w *bf) restricted(p uint32) bool {
	for k := range w.links {
		if k[0] == p {
			return true
		}
	}
	return false
}

func (w *bf) inGroupNow(og, oid uint32) bool {
	h := w.ogHist[[2]uint32{og, oid}]
	return len(h) > 0 && h[len(h)-1][1] == 0
}

// inGroupAt: membership with record time < as (half-open as-of).
func (w *bf) inGroupAt(og, oid uint32, as int64) bool {
	for _, iv := range w.ogHist[[2]uint32{og, oid}] {
		if iv[0] < as && (iv[1] == 0 || as <= iv[1]) {
			return true
		}
	}
	return false
}

// principal relation (no key).
func (w *bf) allowed(p, oid uint32, verb string, t int64) bool {
	o := w.objs[oid]
	if o == nil {
		return false
	}
	if verb == "write" && o.disabled {
		return false
	}
	if p == AnonymousPrincipal {
		return verb == "read" && o.public
	}
	if w.super(p) {
		return true
	}
	if w.tenantOf[p] != o.tenant {
		return false
	}
	if w.tadmin[[2]uint32{o.tenant, p}] {
		return true
	}
	if w.restricted(p) {
		return verb != "manage" && w.links[[2]uint32{p, oid}]
	}
	admin, isMember := w.member[[2]uint32{o.owner, p}]
	if isMember && (verb == "read" || admin) {
		return true
	}
	if verb != "read" {
		return false
	}
	for k, win := range w.shares {
		og, ug := k[0], k[1]
		if _, m := w.member[[2]uint32{ug, p}]; !m || w.ogTenant[og] != o.tenant || !w.inGroupNow(og, oid) {
			continue
		}
		if !win.From.IsZero() && win.From.UnixNano() > t {
			continue
		}
		if !win.Timed() {
			return true
		}
		as := t
		if !win.To.IsZero() && win.To.UnixNano() < t {
			as = win.To.UnixNano()
		}
		if as == t || (o.created < as && w.inGroupAt(og, oid, as)) {
			return true
		}
	}
	return false
}

// keyAllows: the key's (and its client's) scopes grant verb on oid.
func (w *bf) keyAllows(k *Apikey, oid uint32, verb string) bool {
	if (verb == "write" || verb == "manage") && k.ReadOnly {
		return false
	}
	sc := k.Scopes
	if sc == nil {
		if k.ReadOnly {
			sc = []Scope{{Verb: VerbRead, Module: "*"}}
		} else {
			sc = []Scope{{Verb: VerbManage, Module: "*"}}
		}
	}
	if !w.scopesAllow(sc, oid, verb) {
		return false
	}
	if b, ok := w.client[k.Principal]; ok && b != nil {
		return w.scopesAllow(b, oid, verb)
	}
	return true
}

func (w *bf) scopesAllow(sc []Scope, oid uint32, verb string) bool {
	for _, s := range sc {
		var needV Verb
		var mods []string
		route := ""
		switch verb {
		case "read":
			needV, mods = VerbRead, []string{"data", "meta"}
		case "write":
			needV, mods, route = VerbUse, []string{"data"}, "write"
		case "manage":
			needV, mods = VerbManage, []string{"meta"}
		}
		if s.Verb < needV || !(s.Module == "*" || slices.Contains(mods, s.Module)) {
			continue
		}
		switch {
		case s.Resource == "" || (route != "" && s.Resource == route):
			return true
		case s.Resource == fmt.Sprintf("object/%d", oid):
			return true
		}
		var g uint32
		if _, err := fmt.Sscanf(s.Resource, "objectGroup/%d", &g); err == nil && w.inGroupNow(g, oid) {
			return true
		}
	}
	return false
}

type oracleWorld struct {
	e   *env
	w   *bf
	rng *rand.Rand
	end time.Time
}

func (ow *oracleWorld) tick() { ow.e.clk.Add(time.Duration(1+ow.rng.Intn(60)) * time.Minute) }

func pick[T any](r *rand.Rand, s []T) T { return s[r.Intn(len(s))] }

// buildWorld makes a random world through the ACL API (system actor) and records
// the same facts in the brute-force model.
func buildWorld(t *testing.T, seed int64) *oracleWorld {
	e := newEnv(t)
	r := rand.New(rand.NewSource(seed))
	ow := &oracleWorld{e: e, rng: r}
	w := &bf{tenantOf: map[uint32]uint32{AdminUser: MasterTenant}, client: map[uint32][]Scope{}, gTenant: map[uint32]uint32{SuperGroup: MasterTenant},
		member: map[[2]uint32]bool{{SuperGroup, AdminUser}: true}, tadmin: map[[2]uint32]bool{}, links: map[[2]uint32]bool{},
		objs: map[uint32]*bfObj{}, ogTenant: map[uint32]uint32{}, ogHist: map[[2]uint32][][2]int64{}, shares: map[[2]uint32]Window{}}
	ow.w = w
	a := e.acl
	tenants := []uint32{MasterTenant}
	for i := 0; i < 1+r.Intn(2); i++ {
		tn := must[Tenant](t)(a.CreateTenant(0, fmt.Sprintf("tenant-%d", i), ""))
		tenants = append(tenants, tn.ID)
	}
	princ := map[uint32][]uint32{}
	groups := map[uint32][]uint32{MasterTenant: {SuperGroup}}
	princ[MasterTenant] = []uint32{AdminUser}
	var all []uint32
	for _, tn := range tenants {
		for i := 0; i < 5+r.Intn(4); i++ {
			var id uint32
			if r.Intn(4) == 0 {
				var sc []Scope
				if r.Intn(2) == 0 {
					sc = []Scope{pick(r, []Scope{{VerbRead, "*", ""}, {VerbUse, "data", ""}, {VerbManage, "meta", ""}, {VerbRead, "data", ""}})}
				}
				p, _, err := a.CreateClient(0, tn, fmt.Sprintf("client %d", i), sc)
				ok(t, err)
				id = p.ID
				w.client[id] = sc
			} else {
				p := must[Principal](t)(a.CreateUser(0, NewUser{Tenant: tn, Name: fmt.Sprintf("u%d-%d", tn, i), Password: "password", Email: fmt.Sprintf("u%d-%d@example.com", tn, i)}))
				id = p.ID
			}
			w.tenantOf[id] = tn
			princ[tn] = append(princ[tn], id)
			all = append(all, id)
		}
		for i := 0; i < 3+r.Intn(3); i++ {
			g := must[UserGroup](t)(a.CreateGroup(0, tn, fmt.Sprintf("group-%d-%d", tn, i)))
			groups[tn] = append(groups[tn], g.ID)
			w.gTenant[g.ID] = tn
		}
		for _, p := range princ[tn] {
			for _, g := range groups[tn] {
				if r.Intn(3) == 0 {
					admin := r.Intn(2) == 0
					if g == SuperGroup && p != AdminUser && r.Intn(3) != 0 {
						continue
					}
					err := a.AddMember(0, g, p, admin)
					if err == nil {
						w.member[[2]uint32{g, p}] = admin
					} else if !errorsIs(err, ErrUnchanged) && !errorsIs(err, ErrForbidden) {
						t.Fatal(err)
					}
				}
			}
		}
		if r.Intn(2) == 0 {
			p := pick(r, princ[tn])
			if err := a.AddTenantAdmin(0, tn, p); err == nil {
				w.tadmin[[2]uint32{tn, p}] = true
			}
		}
	}
	// objects, created over time
	objsOf := map[uint32][]uint32{}
	units := []string{"V", "°C", "h", "Here", "char"}
	for _, tn := range tenants {
		for i := 0; i < 10+r.Intn(8); i++ {
			owner := pick(r, groups[tn])
			created := must[[]catalog.Object](t)(a.CreateObjects(0, []catalog.NewObject{{Name: fmt.Sprintf("o%d", i), Owner: owner, UnitSymbol: pick(r, units)}}, nil))
			o := created[0]
			w.objs[o.ID] = &bfObj{tenant: tn, owner: owner, created: o.Created.UnixNano()}
			objsOf[tn] = append(objsOf[tn], o.ID)
			ow.tick()
		}
	}
	// object groups and membership history
	ogsOf := map[uint32][]uint32{}
	var times []time.Time
	for _, tn := range tenants {
		for i := 0; i < 2+r.Intn(3); i++ {
			og := must[catalog.ObjectGroup](t)(a.CreateObjectGroup(0, catalog.NewGroup{Name: fmt.Sprintf("og-%d-%d", tn, i), Owner: pick(r, groups[tn])}))
			ogsOf[tn] = append(ogsOf[tn], og.ID)
			w.ogTenant[og.ID] = tn
		}
		for j := 0; j < 25; j++ {
			og, oid := pick(r, ogsOf[tn]), pick(r, objsOf[tn])
			k := [2]uint32{og, oid}
			now := e.clk.Now().UnixNano()
			if w.inGroupNow(og, oid) {
				if r.Intn(3) == 0 {
					ok(t, a.RemoveFromObjectGroup(0, og, oid))
					w.ogHist[k][len(w.ogHist[k])-1][1] = now
				}
			} else {
				ok(t, a.AddToObjectGroup(0, og, oid))
				w.ogHist[k] = append(w.ogHist[k], [2]int64{now, 0})
			}
			times = append(times, e.clk.Now())
			ow.tick()
		}
	}
	mid := e.clk.Now()
	// more objects after the memberships (exist or not at A_s)
	for _, tn := range tenants {
		owner := pick(r, groups[tn])
		created := must[[]catalog.Object](t)(a.CreateObjects(0, []catalog.NewObject{{Name: "late", Owner: owner, UnitSymbol: "V"}}, nil))
		o := created[0]
		w.objs[o.ID] = &bfObj{tenant: tn, owner: owner, created: o.Created.UnixNano()}
		objsOf[tn] = append(objsOf[tn], o.ID)
		og := pick(r, ogsOf[tn])
		ok(t, a.AddToObjectGroup(0, og, o.ID))
		w.ogHist[[2]uint32{og, o.ID}] = append(w.ogHist[[2]uint32{og, o.ID}], [2]int64{e.clk.Now().UnixNano(), 0})
		times = append(times, e.clk.Now())
		ow.tick()
	}
	ow.end = e.clk.Now()
	randTime := func() time.Time {
		if r.Intn(3) == 0 {
			return pick(r, times)
		}
		lo, hi := times[0].Add(-2*time.Hour), ow.end.Add(24*time.Hour)
		return lo.Add(time.Duration(r.Int63n(int64(hi.Sub(lo))))).Truncate(time.Millisecond)
	}
	// shares, with and without windows
	for _, tn := range tenants {
		for j := 0; j < 6; j++ {
			og, ug := pick(r, ogsOf[tn]), pick(r, groups[tn])
			var win Window
			switch r.Intn(4) {
			case 1:
				win.From = randTime()
			case 2:
				win.To = randTime()
			case 3:
				f, to := randTime(), randTime()
				if f.After(to) {
					f, to = to, f
				}
				if f.Equal(to) {
					to = to.Add(time.Minute)
				}
				win = Window{From: f, To: to}
			}
			err := a.ShareGroup(0, og, ug, &win)
			if err == nil {
				w.shares[[2]uint32{og, ug}] = Window{From: win.From.UTC(), To: win.To.UTC()}
			} else if !errorsIs(err, ErrUnchanged) {
				t.Fatal(err)
			}
		}
	}
	_ = mid
	// state flips
	for _, tn := range tenants {
		for _, oid := range objsOf[tn] {
			switch r.Intn(6) {
			case 0:
				ok(t, a.SetObjectEnabled(0, oid, false))
				w.objs[oid].disabled = true
			case 1:
				ok(t, a.SetPublic(0, oid, true, []string{"name"}))
				w.objs[oid].public = true
			}
		}
		// restricted links
		for i := 0; i < 2; i++ {
			p := pick(r, princ[tn])
			for j := 0; j < 1+r.Intn(3); j++ {
				oid := pick(r, objsOf[tn])
				err := a.Link(0, p, oid)
				if err == nil {
					w.links[[2]uint32{p, oid}] = true
				} else if !errorsIs(err, ErrForbidden) && !errorsIs(err, ErrUnchanged) {
					t.Fatal(err)
				}
			}
		}
	}
	// apikeys
	scopePool := func(tn uint32) []Scope {
		return []Scope{{VerbRead, "data", ""}, {VerbRead, "meta", ""}, {VerbUse, "data", ""}, {VerbUse, "data", "write"},
			{VerbManage, "meta", ""}, {VerbManage, "*", ""}, {VerbRead, "*", ""},
			{VerbRead, "data", fmt.Sprintf("object/%d", pick(r, objsOf[tn]))},
			{VerbManage, "data", fmt.Sprintf("object/%d", pick(r, objsOf[tn]))},
			{VerbManage, "meta", fmt.Sprintf("objectGroup/%d", pick(r, ogsOf[tn]))},
			{VerbUse, "data", fmt.Sprintf("objectGroup/%d", pick(r, ogsOf[tn]))}}
	}
	for _, p := range append([]uint32{AdminUser}, all...) {
		tn := w.tenantOf[p]
		for i := 0; i < 1+r.Intn(2); i++ {
			n := NewApikey{ReadOnly: r.Intn(3) == 0}
			if r.Intn(4) == 0 {
				n.Expires = randTime()
			}
			if r.Intn(2) == 0 {
				for j := 0; j < 1+r.Intn(2); j++ {
					n.Scopes = append(n.Scopes, pick(r, scopePool(tn)))
				}
			}
			k := must[Apikey](t)(a.CreateApikey(nil, p, n))
			kk := k
			w.keys = append(w.keys, &kk)
		}
	}
	return ow
}

func errorsIs(err, target error) bool { return err != nil && (err == target || isErr(err, target)) }

// TestOracleViewsEqualCasbinAndBruteForce is the acceptance oracle: for random
// seeded worlds and every (apikey, object, verb) at several instants, the
// compiled key view, Casbin Enforce (narrowed by the key) and the brute-force model
// agree.
func TestOracleViewsEqualCasbinAndBruteForce(t *testing.T) {
	seed := *oracleSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000
	}
	total, mismatches := 0, 0
	positives := map[string]int{}
	for wi := 0; wi < *oracleWorlds; wi++ {
		s := seed + int64(wi)
		t.Logf("oracle world seed %d (rerun: go test ./acl -run Oracle -oracle.seed=%d -oracle.worlds=1)", s, s)
		ow := buildWorld(t, s)
		ow.e.reopen(t) // everything is judged as loaded back from Pebble
		a, w := ow.e.acl, ow.w
		enf, err := a.Enforcer()
		ok(t, err)
		ids := make([]uint32, 0, len(w.objs))
		for id := range w.objs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		instants := []time.Time{ow.end, ow.end.Add(time.Duration(ow.rng.Int63n(int64(12 * time.Hour)))).Truncate(time.Millisecond), ow.end.Add(30 * time.Hour)}
		for _, at := range instants {
			tns := at.UnixNano()
			// anonymous
			pv := a.ViewAt(AnonymousPrincipal, at)
			for _, oid := range ids {
				want := w.allowed(AnonymousPrincipal, oid, "read", tns)
				got, _, err := enf.EnforceAt(AnonymousPrincipal, w.objs[oid].tenant, oid, "read", at)
				ok(t, err)
				total++
				if pv.CanRead(oid) != want || got != want {
					mismatches++
					t.Errorf("seed %d at %s: anonymous read o%d: view %v casbin %v brute %v", s, at, oid, pv.CanRead(oid), got, want)
				}
			}
			for _, k := range w.keys {
				kv, err := a.KeyViewAt(k, at)
				expired := k.Expired(at)
				if expired != (err != nil) {
					t.Fatalf("key %d expired=%v, KeyViewAt err=%v", k.ID, expired, err)
				}
				if at.Equal(ow.e.clk.Now()) && !expired {
					kv = must[*KeyView](t)(a.KeyView(k)) // the cached path, at the clock's now
				}
				for _, oid := range ids {
					for _, verb := range Verbs {
						total++
						want := !expired && w.allowed(k.Principal, oid, verb, tns) && w.keyAllows(k, oid, verb)
						ce, _, err := enf.EnforceAt(k.Principal, w.objs[oid].tenant, oid, verb, at)
						ok(t, err)
						if at.Equal(ow.end) && total%5 == 0 { // the per-tenant enforcer of /explain agrees (sampled)
							et := must[*Enforcer](t)(a.EnforcerFor(w.objs[oid].tenant))
							ct, _, err := et.EnforceAt(k.Principal, w.objs[oid].tenant, oid, verb, at)
							ok(t, err)
							if ct != ce {
								mismatches++
								t.Errorf("seed %d: tenant enforcer %v, full enforcer %v for key %d %s o%d", s, ct, ce, k.ID, verb, oid)
							}
						}
						casb := !expired && ce && w.keyAllows(k, oid, verb)
						var view bool
						if !expired {
							switch verb {
							case "read":
								view = kv.CanRead(oid)
							case "write":
								view = kv.CanWrite(oid)
							case "manage":
								view = kv.CanManage(oid)
							}
						}
						if want {
							positives[verb]++
							if verb == "read" && kv.Windows(oid) != nil {
								positives["read-windowed"]++
							}
						}
						if view != want || casb != want {
							mismatches++
							if mismatches < 20 {
								t.Errorf("seed %d at %s: key %d (principal %d) %s o%d: view %v casbin %v brute %v",
									s, at.Format(time.RFC3339), k.ID, k.Principal, verb, oid, view, casb, want)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("oracle: %d checks, %d mismatches; allowed: %v", total, mismatches, positives)
	if total < 10000 {
		t.Errorf("only %d checks, want ≥ 10000", total)
	}
}
