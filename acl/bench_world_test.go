package acl

import (
	"flag"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"

	"github.com/tsgate/tsgate/catalog"
)

var benchWorld = flag.Bool("bench-world", false, "run TestBenchWorldReport (100 k objects, 10 k principals, 2 k object groups, 5 k shares)")

// worldSize is the benchmark world of the acl issue.
type worldSize struct {
	tenants, principals, userGroups, objects, objectGroups, ogSize, shares, windowedPct int
}

var issueWorld = worldSize{tenants: 10, principals: 10_000, userGroups: 1_000, objects: 100_000, objectGroups: 2_000, ogSize: 50, shares: 5_000, windowedPct: 20}

type benchEnv struct {
	*env
	principals []uint32
	keys       []Apikey
	tokens     []Token
	objects    []uint32
	build      time.Duration
}

// buildBenchWorld loads a world through bulk paths (one batch per kind; the
// per-call API would spend minutes in fsyncs and password hashes).
func buildBenchWorld(t testing.TB, ws worldSize) *benchEnv {
	start := time.Now()
	e := newEnv(t)
	be := &benchEnv{env: e}
	r := rand.New(rand.NewSource(42))
	a := e.acl
	hash, _ := bcrypt.GenerateFromPassword([]byte("password"), bcrypt.MinCost)
	tenants := []uint32{MasterTenant}
	for i := 1; i < ws.tenants; i++ {
		tenants = append(tenants, must[Tenant](t)(a.CreateTenant(0, fmt.Sprintf("t%03d", i), "")).ID)
	}
	ugOf := map[uint32][]uint32{}
	prOf := map[uint32][]uint32{}
	ok(t, a.write(func(tx *txn) error {
		for i := 0; i < ws.userGroups; i++ {
			tn := tenants[i%len(tenants)]
			g := a.stageGroup(tx, 0, tn, fmt.Sprintf("ug%d", i))
			ugOf[tn] = append(ugOf[tn], g.ID)
			tx.do(func() {}) // keep apply order
		}
		return nil
	}))
	ok(t, a.write(func(tx *txn) error {
		for i := 0; i < ws.principals; i++ {
			tn := tenants[i%len(tenants)]
			p, err := a.stagePrincipal(tx, 0, &Principal{Kind: KindUser, Tenant: tn, Name: fmt.Sprintf("bu%d", i), Email: fmt.Sprintf("bu%d@example.com", i), Hash: hash})
			if err != nil {
				return err
			}
			prOf[tn] = append(prOf[tn], p.ID)
			be.principals = append(be.principals, p.ID)
		}
		return nil
	}))
	ok(t, a.write(func(tx *txn) error {
		for _, tn := range tenants {
			for _, p := range prOf[tn] {
				seen := map[uint32]bool{}
				for j := 0; j < 3; j++ {
					g := ugOf[tn][r.Intn(len(ugOf[tn]))]
					if seen[g] {
						continue
					}
					seen[g] = true
					ug := *a.mu.groups[g]
					a.stageMember(tx, 0, &ug, p, j == 0 && r.Intn(4) == 0, false)
				}
			}
		}
		return nil
	}))
	// objects: bulk per owner group
	objsOf := map[uint32][]uint32{}
	perGroup := ws.objects / ws.userGroups
	for _, tn := range tenants {
		for _, g := range ugOf[tn] {
			news := make([]catalog.NewObject, perGroup)
			for i := range news {
				news[i] = catalog.NewObject{Name: fmt.Sprintf("o%d-%d", g, i), Owner: g, UnitSymbol: "V"}
			}
			objs := must[[]catalog.Object](t)(a.CreateObjects(0, news, nil))
			for _, o := range objs {
				objsOf[tn] = append(objsOf[tn], o.ID)
				be.objects = append(be.objects, o.ID)
			}
		}
	}
	// object groups with members, then shares (some windowed)
	ogOf := map[uint32][]uint32{}
	for i := 0; i < ws.objectGroups; i++ {
		tn := tenants[i%len(tenants)]
		og := must[catalog.ObjectGroup](t)(a.CreateObjectGroup(0, catalog.NewGroup{Name: fmt.Sprintf("og%d", i), Owner: ugOf[tn][r.Intn(len(ugOf[tn]))]}))
		ogOf[tn] = append(ogOf[tn], og.ID)
		ms := make([]uint32, ws.ogSize)
		for j := range ms {
			ms[j] = objsOf[tn][r.Intn(len(objsOf[tn]))]
		}
		if err := e.cat.AddMembers(og.ID, ms, nil); err != nil && !isErr(err, ErrUnchanged) {
			t.Fatal(err)
		}
	}
	now := e.clk.Now()
	ok(t, a.write(func(tx *txn) error {
		n := 0
		for n < ws.shares {
			tn := tenants[r.Intn(len(tenants))]
			og, ug := ogOf[tn][r.Intn(len(ogOf[tn]))], ugOf[tn][r.Intn(len(ugOf[tn]))]
			if _, dup := a.mu.shares[og][ug]; dup {
				continue
			}
			var w Window
			if r.Intn(100) < ws.windowedPct {
				w = Window{From: now.Add(-time.Duration(r.Intn(1000)) * time.Hour), To: now.Add(time.Duration(r.Intn(1000)-500) * time.Hour)}
				if !w.From.Before(w.To) {
					w.To = w.From.Add(time.Hour)
				}
			}
			tx.addRule(shareRule(tn, og, ug, w))
			tx.set(key(kindShare, og, ug), w)
			a.setShareLocked(og, ug, w, true) // bulk load: wmu held, no reader yet
			tx.dirty = true
			n++
		}
		return nil
	}))
	// one apikey per principal (sample), one token per object (sample)
	ok(t, a.write(func(tx *txn) error {
		for i, p := range be.principals {
			if i%10 != 0 {
				continue
			}
			be.keys = append(be.keys, a.stageKey(tx, a.mu.principals[p], Apikey{}, 0))
		}
		return nil
	}))
	for i := 0; i < 1000; i++ {
		o := be.objects[r.Intn(len(be.objects))]
		be.tokens = append(be.tokens, must[[]Token](t)(a.CreateTokens(0, []NewToken{{Object: o}}))...)
	}
	be.build = time.Since(start)
	waitCompactions(be.db)
	return be
}

// waitCompactions lets Pebble finish the flushes and compactions the bulk load
// started, so they do not compete with the measurements (at most 60 s).
func waitCompactions(db *pebble.DB) {
	if err := db.Flush(); err != nil {
		return
	}
	for i := 0; i < 600; i++ {
		m := db.Metrics()
		if m.Compact.NumInProgress == 0 && m.Flush.NumInProgress == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}

// TestBenchWorldReport measures the acceptance figures of the acl issue and prints
// them (bench/RESULTS.md ## acl). Run: go test ./acl -run BenchWorldReport -bench-world -v
func TestBenchWorldReport(t *testing.T) {
	if !*benchWorld {
		t.Skip("needs -bench-world")
	}
	be := buildBenchWorld(t, issueWorld)
	a := be.acl
	t.Logf("world built in %v: %d principals, %d objects, %d object groups, %d shares", be.build, len(be.principals), len(be.objects), issueWorld.objectGroups, issueWorld.shares)

	// one view rebuild (compile) for random principals
	r := rand.New(rand.NewSource(1))
	a.derivedNow()
	var ds, cs []time.Duration
	now := be.clk.Now().UnixNano()
	cpu0 := cpuTime()
	runtime.LockOSThread()
	for i := 0; i < 5000; i++ {
		p := be.principals[r.Intn(len(be.principals))]
		s, c := time.Now(), threadCPU()
		a.compileView(p, now)
		cs = append(cs, threadCPU()-c)
		ds = append(ds, time.Since(s))
	}
	runtime.UnlockOSThread()
	t.Logf("view rebuild: wall p50 %v p99 %v max %v; thread CPU p50 %v p99 %v; process CPU %v per rebuild (n=%d)",
		percentile(ds, .5), percentile(ds, .99), percentile(ds, 1), percentile(cs, .5), percentile(cs, .99), (cpuTime()-cpu0)/5000, len(ds))

	// all views
	s := time.Now()
	cpu0 = cpuTime()
	n := a.RebuildAllViews()
	t.Logf("all views (%d principals, %d goroutines): wall %v, process CPU %v", n, runtime.GOMAXPROCS(0), time.Since(s), cpuTime()-cpu0)

	// memory of views
	var rb, wb, dense, sparse, shared int
	a.views.mu.RLock()
	for _, v := range a.views.m {
		r, w := v.Bytes()
		rb += r
		wb += w
		if v.read.dense != nil {
			dense++
		} else {
			sparse++
		}
	}
	a.views.mu.RUnlock()
	_ = shared
	t.Logf("view memory: read %d B/view, write %d B/view (dense read sets %d, sparse %d); a dense set of %d objects = %d B",
		rb/n, wb/n, dense, sparse, len(be.objects), (len(be.objects)+64)/64*8)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use with all views: %d MiB", ms.HeapInuse>>20)

	// bit check
	v := a.View(be.principals[0])
	const N = 10_000_000
	hits := 0
	s = time.Now()
	for i := 0; i < N; i++ {
		if v.CanRead(uint32(i%len(be.objects)) + 1) {
			hits++
		}
	}
	t.Logf("bit check: %.2f ns (%d hits)", float64(time.Since(s).Nanoseconds())/N, hits)

	// request-level authz: apikey lookup + key view + one check
	ds, cs = ds[:0], cs[:0]
	runtime.LockOSThread()
	for i := 0; i < 20000; i++ {
		k := be.keys[r.Intn(len(be.keys))]
		o := be.objects[r.Intn(len(be.objects))]
		s, c := time.Now(), threadCPU()
		key, _, err := a.AuthenticateBearer(k.Secret)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := a.KeyView(key)
		if err != nil {
			t.Fatal(err)
		}
		_ = kv.CanRead(o)
		cs = append(cs, threadCPU()-c)
		ds = append(ds, time.Since(s))
	}
	runtime.UnlockOSThread()
	t.Logf("request authz (bearer lookup + key view + check): wall p50 %v p99 %v; thread CPU p50 %v p99 %v",
		percentile(ds, .5), percentile(ds, .99), percentile(cs, .5), percentile(cs, .99))

	// token lookup (cached)
	for _, tk := range be.tokens {
		a.CheckTokenString(tk.Object, tk.Secret)
	}
	toks := make([][]byte, len(be.tokens))
	for i, tk := range be.tokens {
		toks[i] = []byte(tk.Secret)
	}
	s = time.Now()
	const M = 2_000_000
	for i := 0; i < M; i++ {
		j := i % len(toks)
		if !a.CheckToken(be.tokens[j].Object, toks[j]) {
			t.Fatal("token")
		}
	}
	t.Logf("token lookup (cached): %.1f ns", float64(time.Since(s).Nanoseconds())/M)

	// revoke visible before return
	p := be.principals[1]
	g := -1
	a.mu.RLock()
	for gid := range a.mu.groupsOf[p] {
		g = int(gid)
	}
	a.mu.RUnlock()
	if g > 0 {
		s = time.Now()
		ok(t, a.RemoveMember(0, uint32(g), p))
		rm := time.Since(s)
		s = time.Now()
		a.View(p)
		t.Logf("revoke: RemoveMember (sync commit) %v, next View (recompile) %v", rm, time.Since(s))
	}

	// a catalog change (disable an object): the derived per-group sets are rebuilt
	// once (O(objects)), then each view recompiles on its next use
	s = time.Now()
	ok(t, a.SetObjectEnabled(0, be.objects[7], false))
	dis := time.Since(s)
	s = time.Now()
	a.View(p)
	t.Logf("catalog change: SetObjectEnabled %v, next View (derived sets rebuilt + compile) %v", dis, time.Since(s))

	// Casbin side by side: Enforce per object for one principal on 1000 objects
	s = time.Now()
	enf := must[*Enforcer](t)(a.Enforcer())
	t.Logf("Casbin enforcer build (policy from Pebble + catalog facts): %v", time.Since(s))
	pr := be.principals[2]
	tn := a.tenantOfLocked(pr)
	var sample []uint32
	for _, o := range be.objects {
		if d := a.derivedNow(); d.tenant[o] == tn {
			sample = append(sample, o)
		}
		if len(sample) == 1000 {
			break
		}
	}
	at := be.clk.Now()
	vw := a.View(pr)
	s = time.Now()
	agree := 0
	for _, o := range sample {
		got, _, err := enf.EnforceAt(pr, tn, o, "read", at)
		ok(t, err)
		if got == vw.CanRead(o) {
			agree++
		}
	}
	el := time.Since(s)
	t.Logf("Casbin Enforce: %v per call; readable set of 1000 objects %v → 100 k objects ≈ %v (agreement with the view %d/1000); view: compile once + %d bit checks",
		el/1000, el, el*100, agree, len(be.objects))

	// explain's per-tenant enforcer
	s = time.Now()
	et := must[*Enforcer](t)(a.EnforcerFor(tn))
	build := time.Since(s)
	s = time.Now()
	for _, o := range sample[:100] {
		_, _, err := et.EnforceAt(pr, tn, o, "read", at)
		ok(t, err)
	}
	t.Logf("per-tenant enforcer (explain): build %v, Enforce %v per call", build, time.Since(s)/100)

	// cold start: reopen (load acl + catalog) + build every view
	be.close(t)
	s = time.Now()
	be.db = openDB(t, be.dir)
	pebbleOpen := time.Since(s)
	s = time.Now()
	cpu0 = cpuTime()
	cat, err := catalog.Open(be.db, catalog.Options{Now: be.clk.Now})
	ok(t, err)
	catOpen := time.Since(s)
	s = time.Now()
	a, err = Open(be.db, cat, Options{Now: be.clk.Now})
	ok(t, err)
	be.cat, be.acl = cat, a
	aclOpen := time.Since(s)
	s = time.Now()
	a.RebuildAllViews()
	views := time.Since(s)
	t.Logf("cold start: pebble.Open (WAL replay) %v; catalog.Open %v + acl.Open %v + all views %v = %v wall, %v process CPU",
		pebbleOpen, catOpen, aclOpen, views, catOpen+aclOpen+views, cpuTime()-cpu0)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// threadCPU is the calling OS thread's CPU time (precise, unaffected by time spent
// preempted): measurements on a shared machine.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
