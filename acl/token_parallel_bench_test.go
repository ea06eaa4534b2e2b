package acl

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/tsgate/tsgate/catalog"
)

// BenchmarkTokenLookupParallel: cached (object, token) checks from every core at once, as the
// ingest path does with concurrent requests of distinct objects.
func BenchmarkTokenLookupParallel(b *testing.B) {
	e := newEnv(b)
	g := must[UserGroup](b)(e.acl.CreateGroup(0, MasterTenant, "bench"))
	news := make([]catalog.NewObject, 2000)
	for i := range news {
		news[i] = catalog.NewObject{Name: fmt.Sprintf("o%d", i), Owner: g.ID, UnitSymbol: "V"}
	}
	objs := must[[]catalog.Object](b)(e.acl.CreateObjects(0, news, nil))
	nt := make([]NewToken, len(objs))
	for i, o := range objs {
		nt[i] = NewToken{Object: o.ID}
	}
	toks := must[[]Token](b)(e.acl.CreateTokens(0, nt))
	secrets := make([][]byte, len(toks))
	for i, tk := range toks {
		secrets[i] = []byte(tk.Secret)
		if !e.acl.CheckToken(tk.Object, secrets[i]) {
			b.Fatal("token")
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	var start atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		i := int(start.Add(int64(len(toks)/7))) % len(toks) // goroutines on different objects
		for pb.Next() {
			i++
			if i == len(toks) {
				i = 0
			}
			if !e.acl.CheckToken(toks[i].Object, secrets[i]) {
				b.Error("token")
				return
			}
		}
	})
}
