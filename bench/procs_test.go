package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScrapeMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `# HELP tsgate_tsdb_samples samples
tsgate_tsdb_samples 3000
tsgate_tsdb_blocks_bytes 5886
vm_data_size_bytes{type="storage/small"} 100
vm_data_size_bytes{type="storage/big"} 20
vm_data_size_bytes{type="indexdb"} 7
process_resident_memory_bytes 1.5e+08
`)
	}))
	defer srv.Close()
	m, err := ScrapeMetrics(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := func(got, want float64) {
		t.Helper()
		if got != want {
			t.Errorf("got %v, want %v", got, want)
		}
	}
	f(m.Sum("tsgate_tsdb_samples"), 3000)
	f(m.Sum("tsgate_tsdb_blocks_bytes"), 5886)
	f(m.Sum("vm_data_size_bytes"), 127)
	f(m.Sum("vm_data_size_bytes", `type="storage/`), 120)
	f(m.Sum("process_resident_memory_bytes"), 1.5e8)
	f(m.Sum("absent"), 0)
}

func TestDirSizeAndStable(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]int{"a.tsm": 100, "b": 10, "cache/c": 1000, "sub/d.tsm": 5} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := DirSize(dir); n != 1115 {
		t.Errorf("DirSize = %d", n)
	}
	if n, _ := DirSize(dir, "cache"); n != 115 {
		t.Errorf("DirSize without cache = %d", n)
	}
	if n, _ := dirSize(dir, func(s string) bool { return filepath.Ext(s) == ".tsm" }); n != 105 {
		t.Errorf("tsm size = %d", n)
	}
	if n := WaitStableSize(context.Background(), dir, time.Millisecond, 2, time.Second); n != 1115 {
		t.Errorf("WaitStableSize = %d", n)
	}
}
