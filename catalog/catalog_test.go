package catalog

import (
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic("pebble fatal: " + format)
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

func openCat(t *testing.T, dir string, clk *clock) (*pebble.DB, *Catalog) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(db, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return db, c
}

func TestUnitsCreatedOnceWithSeedTypes(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	db, c := openCat(t, dir, clk)
	seed := map[string]struct {
		name string
		typ  Type
	}{
		" ": {"none", TypeString}, "%": {"percentage", TypeFloat}, "°C": {"celsius", TypeFloat},
		"char": {"free text", TypeString}, "h": {"hours", TypeInt}, "Here": {"presence", TypeBool},
		"Hz": {"hertz", TypeFloat}, "kW": {"kilowatt", TypeFloat}, "lx": {"lux", TypeFloat},
		"V": {"volt", TypeFloat}, "W": {"watts", TypeFloat}, "on/off": {"on/off", TypeBool}, "count": {"count", TypeInt},
	}
	for sym, want := range seed {
		u, err := c.Unit(sym)
		if err != nil || u.Name != want.name || u.Type != want.typ {
			t.Errorf("unit %q = %+v, %v; want %v", sym, u, err, want)
		}
	}
	if _, err := c.CreateUnit(Unit{"mm", "millimeter", TypeFloat}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUnit(Unit{"mm", "other", TypeFloat}); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate symbol: %v", err)
	}
	if _, err := c.CreateUnit(Unit{"xx", "x", TypeInvalid}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad type: %v", err)
	}
	n := len(c.Units())
	db.Close()
	db, c = openCat(t, dir, clk)
	defer db.Close()
	if len(c.Units()) != n || n != len(DefaultUnits)+1 {
		t.Fatalf("units after restart: %d, want %d", len(c.Units()), n)
	}
}
