package acl

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/tsgate/tsgate/catalog"
)

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic("pebble fatal: " + format)
}

func openDB(t testing.TB, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

type env struct {
	db  *pebble.DB
	cat *catalog.Catalog
	acl *ACL
	clk *clock
	dir string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	e := &env{dir: t.TempDir(), clk: newClock()}
	e.open(t)
	t.Cleanup(func() { e.close(t) })
	if _, err := e.acl.Bootstrap("adminpw"); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	e.db = openDB(t, e.dir)
	var err error
	e.cat, err = catalog.Open(e.db, catalog.Options{Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.acl, err = Open(e.db, e.cat, Options{HashCost: bcrypt.MinCost, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) close(t testing.TB) {
	t.Helper()
	if e.db == nil {
		return
	}
	if err := e.acl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.db = nil
}

func (e *env) reopen(t testing.TB) {
	t.Helper()
	e.close(t)
	e.open(t)
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func asErr[T any](err error, target *T) bool { return errors.As(err, target) }

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "tsgate-acl-bench-") }
