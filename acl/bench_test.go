package acl

import (
	"math/rand"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchW    *benchEnv
)

// benchWorldOnce builds the issue's world once per test binary (≈ 15 s).
func benchWorldOnce(b *testing.B) *benchEnv {
	benchOnce.Do(func() {
		benchW = buildBenchWorld(&worldTB{b}, issueWorld)
	})
	return benchW
}

// worldTB lets a world outlive the benchmark that built it (no cleanup).
type worldTB struct{ *testing.B }

func (w *worldTB) Cleanup(func()) {}
func (w *worldTB) TempDir() string {
	d, err := osMkdirTemp()
	if err != nil {
		w.Fatal(err)
	}
	return d
}

func BenchmarkViewCompile(b *testing.B) {
	be := benchWorldOnce(b)
	r := rand.New(rand.NewSource(1))
	be.acl.derivedNow()
	now := be.clk.Now().UnixNano()
	b.ReportAllocs()
	for b.Loop() {
		be.acl.compileView(be.principals[r.Intn(len(be.principals))], now)
	}
}

func BenchmarkBitCheck(b *testing.B) {
	be := benchWorldOnce(b)
	v := be.acl.View(be.principals[0])
	n := uint32(len(be.objects))
	var id uint32
	hits := 0
	for b.Loop() {
		id++
		if id > n {
			id = 1
		}
		if v.CanRead(id) {
			hits++
		}
	}
	_ = hits
}

func BenchmarkRequestAuthz(b *testing.B) {
	be := benchWorldOnce(b)
	r := rand.New(rand.NewSource(1))
	b.ReportAllocs()
	for b.Loop() {
		k := be.keys[r.Intn(len(be.keys))]
		key, _, err := be.acl.AuthenticateBearer(k.Secret)
		if err != nil {
			b.Fatal(err)
		}
		kv, err := be.acl.KeyView(key)
		if err != nil {
			b.Fatal(err)
		}
		_ = kv.CanRead(be.objects[r.Intn(len(be.objects))])
	}
}

func BenchmarkTokenLookupCached(b *testing.B) {
	be := benchWorldOnce(b)
	toks := make([][]byte, len(be.tokens))
	for i, tk := range be.tokens {
		toks[i] = []byte(tk.Secret)
		be.acl.CheckToken(tk.Object, toks[i])
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if i == len(toks) {
			i = 0
		}
		if !be.acl.CheckToken(be.tokens[i].Object, toks[i]) {
			b.Fatal("token")
		}
	}
}

// BenchmarkCasbinEnforce is the baseline twin of BenchmarkBitCheck: one Enforce
// of the policy of record (run with -benchtime=20x: each call takes milliseconds).
func BenchmarkCasbinEnforce(b *testing.B) {
	be := benchWorldOnce(b)
	enf, err := be.acl.Enforcer()
	if err != nil {
		b.Fatal(err)
	}
	p := be.principals[2]
	tn := be.acl.tenantOfLocked(p)
	d := be.acl.derivedNow()
	at := be.clk.Now()
	i := 0
	for b.Loop() {
		o := be.objects[i%len(be.objects)]
		i++
		if _, _, err := enf.EnforceAt(p, tn, o, "read", at); err != nil {
			b.Fatal(err)
		}
		_ = d.tenant[o]
	}
}

// BenchmarkDerivedRebuild: the O(objects) rebuild of the per-group sets after a
// catalog change that can alter authorization.
func BenchmarkDerivedRebuild(b *testing.B) {
	be := benchWorldOnce(b)
	b.ReportAllocs()
	for b.Loop() {
		be.acl.derivedC.mu.Lock()
		be.acl.derivedC.cur = nil
		be.acl.derivedC.mu.Unlock()
		be.acl.derivedNow()
	}
}
