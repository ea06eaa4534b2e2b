package tsdb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

func openTest(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return db
}

func TestOpenCloseReopen(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	if db.Pebble() == nil {
		t.Fatal("Pebble() is nil")
	}
	if err := db.Pebble().Set([]byte("cfoo"), []byte("bar"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close = %v, want ErrClosed", err)
	}
	db = openTest(t, dir, Options{})
	v, c, err := db.Pebble().Get([]byte("cfoo"))
	if err != nil || string(v) != "bar" {
		t.Fatalf("Get after reopen = %q, %v", v, err)
	}
	c.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	defer db.Close()
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if want := dir; !contains(err.Error(), want) {
		t.Fatalf("error %q does not name the path", err)
	}
}

func TestOpenNewerFormat(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir, Options{})
	if err := db.Pebble().Set(metaVersionKey, encodeMeta(FormatVersion+1, 0, "future"), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrNewerFormat) {
		t.Fatalf("Open of newer store = %v, want ErrNewerFormat", err)
	}
	// The store is untouched: the version is still the future one.
	po := &pebble.Options{Logger: pebbleLogger{Options{}.withDefaults().Logger}, ReadOnly: true}
	pdb, err := pebble.Open(dir, po)
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	v, c, err := pdb.Get(metaVersionKey)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v[0] != FormatVersion+1 {
		t.Fatalf("version rewritten to %d", v[0])
	}
}

func TestOpenUnreadableDir(t *testing.T) {
	if os.Getuid() == 0 {
		// root reads everything; use a path below a regular file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o644)
		if _, err := Open(filepath.Join(f, "data"), Options{}); err == nil || !contains(err.Error(), f) {
			t.Fatalf("Open below a file = %v", err)
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0)
	defer os.Chmod(dir, 0o755)
	if _, err := Open(dir, Options{}); err == nil || !contains(err.Error(), dir) {
		t.Fatalf("Open unreadable = %v", err)
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
