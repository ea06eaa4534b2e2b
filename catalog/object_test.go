package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func newCat(t *testing.T) (*pebble.DB, *Catalog, *clock, string) {
	t.Helper()
	dir := t.TempDir()
	clk := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	db, c := openCat(t, dir, clk)
	t.Cleanup(func() {
		defer func() { recover() }() // tests that reopen close it themselves
		db.Close()
	})
	return db, c, clk, dir
}

func str(s string) *string { return &s }

func TestCreateObjectsValidation(t *testing.T) {
	_, c, _, _ := newCat(t)
	for _, tc := range []struct {
		in    []NewObject
		field string
	}{
		{[]NewObject{{Name: "", Owner: 1, UnitSymbol: "V"}}, "name"},
		{[]NewObject{{Name: strings.Repeat("x", 61), Owner: 1, UnitSymbol: "V"}}, "name"},
		{[]NewObject{{Name: "x", Owner: 1, UnitSymbol: "V", Description: str(strings.Repeat("d", 256))}}, "description"},
		{[]NewObject{{Name: "x", UnitSymbol: "V"}}, "owner"},
		{[]NewObject{{Name: "x", Owner: 1}}, "unitSymbol"},
		{[]NewObject{{Name: "x", Owner: 1, UnitSymbol: "V", Tags: []string{strings.Repeat("t", 26)}}}, "tags[0]"},
		{[]NewObject{{Name: "x", Owner: 1, UnitSymbol: "V"}, {Name: "", Owner: 1, UnitSymbol: "V"}}, "[1].name"},
	} {
		_, err := c.CreateObjects(tc.in, nil)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields[tc.field] == "" || !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: got %v, want a message on %s", tc.in, err, tc.field)
		}
	}
	_, err := c.CreateObjects(nil, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Fatal("empty bulk accepted")
	}
	_, err = c.CreateObjects([]NewObject{{Name: "a", Owner: 1, UnitSymbol: "V"}, {Name: "b", Owner: 2, UnitSymbol: "V"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "different owners") {
		t.Fatalf("different owners: %v", err)
	}
	_, err = c.CreateObjects([]NewObject{{Name: "a", Owner: 1, UnitSymbol: "nope"}}, nil)
	if err == nil || !strings.Contains(err.Error(), "Object 'a': unit 'nope' does not exist.") {
		t.Fatalf("unknown unit: %v", err)
	}
	if c.MaxObjectID() != 0 {
		t.Fatal("a failed create allocated ids")
	}
}

func TestCreateObjectsDenseIdsAndHookAllOrNothing(t *testing.T) {
	db, c, _, dir := newCat(t)
	news := []NewObject{{Name: "a", Owner: 3, Tenant: 1, UnitSymbol: "V", Tags: []string{"b", "a", "b"}}, {Name: "b", Owner: 3, Tenant: 1, UnitSymbol: "Here"}}
	boom := errors.New("series failed")
	_, err := c.CreateObjects(news, func(b *pebble.Batch, created []Object) error {
		if err := b.Set([]byte("s-test"), []byte("x"), nil); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, closer, err := db.Get([]byte("s-test")); err == nil {
		closer.Close()
		t.Fatal("hook write committed although the hook failed")
	}
	if _, err := c.Object(1); !errors.Is(err, ErrNotFound) {
		t.Fatal("object exists after a failed create")
	}
	var seen []uint32
	objs, err := c.CreateObjects(news, func(b *pebble.Batch, created []Object) error {
		for _, o := range created {
			seen = append(seen, o.ID)
		}
		return b.Set([]byte("s-test"), []byte("x"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []uint32{1, 2}) || objs[0].ID != 1 || objs[1].Type != TypeBool || !slices.Equal(objs[0].Tags, []string{"a", "b"}) {
		t.Fatalf("created %+v, hook saw %v", objs, seen)
	}
	more, _ := c.CreateObjects([]NewObject{{Name: "c", Owner: 3, UnitSymbol: "h"}}, nil)
	if more[0].ID != 3 || more[0].Type != TypeInt {
		t.Fatalf("third object %+v", more[0])
	}
	db.Close()
	clk := &clock{time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	db2, c2 := openCat(t, dir, clk)
	defer db2.Close()
	o, err := c2.Object(2)
	if err != nil || o.Name != "b" || c2.MaxObjectID() != 3 {
		t.Fatalf("after restart: %+v %v max %d", o, err, c2.MaxObjectID())
	}
	next, _ := c2.CreateObjects([]NewObject{{Name: "d", Owner: 3, UnitSymbol: "V"}}, nil)
	if next[0].ID != 4 {
		t.Fatalf("id after restart %d", next[0].ID)
	}
}

func TestObjectHistoryAsOf(t *testing.T) {
	_, c, clk, _ := newCat(t)
	t0 := clk.Now()
	objs, _ := c.CreateObjects([]NewObject{{Name: "v1", Owner: 1, UnitSymbol: "V"}}, nil)
	id := objs[0].ID
	clk.Add(time.Hour)
	if _, err := c.UpdateObject(id, str("v2"), str("desc")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateObject(id, str("v2"), nil); !errors.Is(err, ErrUnchanged) {
		t.Fatalf("same name: %v", err)
	}
	clk.Add(time.Hour)
	if _, err := c.AddTags(id, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddTags(id, []string{"x"}); !errors.Is(err, ErrUnchanged) {
		t.Fatal("tag again")
	}
	for _, tc := range []struct {
		at   time.Time
		name string
		tags int
		err  error
	}{
		{t0, "", 0, ErrNotFound}, // half-open: a version recorded at t0 is not visible as of t0
		{t0.Add(time.Minute), "v1", 0, nil},
		{t0.Add(time.Hour), "v1", 0, nil},
		{t0.Add(time.Hour + 1), "v2", 0, nil},
		{t0.Add(3 * time.Hour), "v2", 1, nil},
	} {
		o, err := c.ObjectAsOf(id, tc.at)
		if !errors.Is(err, tc.err) || (err == nil && (o.Name != tc.name || len(o.Tags) != tc.tags)) {
			t.Errorf("as of %v: %+v %v", tc.at, o, err)
		}
	}
	clk.Add(time.Hour)
	if err := c.DeleteObject(id, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ObjectAsOf(id, clk.Now().Add(time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted object visible as of after its deletion")
	}
	if o, err := c.ObjectAsOf(id, clk.Now().Add(-time.Minute)); err != nil || o.Name != "v2" {
		t.Fatal("history lost on delete")
	}
	h, _ := c.History(id)
	if len(h) != 4 || !h[3].Deleted {
		t.Fatalf("history %d versions", len(h))
	}
	if _, err := c.Object(id); !errors.Is(err, ErrNotFound) {
		t.Fatal("deleted object still current")
	}
}

func TestGroupsMembershipHistory(t *testing.T) {
	db, c, clk, dir := newCat(t)
	objs, _ := c.CreateObjects([]NewObject{{Name: "a", Owner: 1, Tenant: 1, UnitSymbol: "V"}, {Name: "b", Owner: 1, Tenant: 1, UnitSymbol: "V"}}, nil)
	other, _ := c.CreateObjects([]NewObject{{Name: "c", Owner: 5, Tenant: 2, UnitSymbol: "V"}}, nil)
	g, err := c.CreateGroup(NewGroup{Tenant: 1, Name: "grp", Owner: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateGroup(NewGroup{Tenant: 1, Name: "GRP", Owner: 1}, nil); !errors.Is(err, ErrDuplicate) {
		t.Fatal("duplicate name in a tenant")
	}
	if _, err := c.CreateGroup(NewGroup{Tenant: 2, Name: "grp", Owner: 5}, nil); err != nil {
		t.Fatal("same name in another tenant refused")
	}
	if _, err := c.CreateGroup(NewGroup{Tenant: 1, Name: "ab", Owner: 1}, nil); !errors.Is(err, ErrInvalid) {
		t.Fatal("short name")
	}
	if err := c.AddMember(g.ID, other[0].ID, nil); !errors.Is(err, ErrNotFound) {
		t.Fatal("cross-tenant member")
	}
	t0 := clk.Now()
	clk.Add(time.Minute)
	if err := c.AddMember(g.ID, objs[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AddMember(g.ID, objs[0].ID, nil); !errors.Is(err, ErrUnchanged) {
		t.Fatal("member twice")
	}
	clk.Add(time.Minute)
	if err := c.RemoveMember(g.ID, objs[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if err := c.AddMember(g.ID, objs[0].ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{0, false}, {time.Minute, false}, {time.Minute + 1, true}, {2 * time.Minute, true}, {2*time.Minute + 1, false}, {3*time.Minute + 1, true}} {
		if got := c.MemberAt(g.ID, objs[0].ID, t0.Add(tc.at)); got != tc.want {
			t.Errorf("member at +%v: %v", tc.at, got)
		}
	}
	if m := c.Members(g.ID); !slices.Equal(m, []uint32{objs[0].ID}) {
		t.Fatalf("members %v", m)
	}
	db.Close()
	db2, c2 := openCat(t, dir, clk)
	defer db2.Close()
	if !c2.MemberAt(g.ID, objs[0].ID, t0.Add(90*time.Second)) || c2.MemberAt(g.ID, objs[0].ID, t0.Add(150*time.Second)) {
		t.Fatal("membership history lost on restart")
	}
	if gs := c2.GroupsOf(objs[0].ID); !slices.Equal(gs, []uint32{g.ID}) {
		t.Fatalf("groups of %v", gs)
	}
	if err := c2.DeleteGroup(g.ID, nil); err != nil {
		t.Fatal(err)
	}
	if len(c2.Members(g.ID)) != 0 || len(c2.GroupsOf(objs[0].ID)) != 0 {
		t.Fatal("members after group delete")
	}
}

func TestEnabledPublicComments(t *testing.T) {
	_, c, clk, _ := newCat(t)
	objs, _ := c.CreateObjects([]NewObject{{Name: "a", Owner: 1, UnitSymbol: "V"}}, nil)
	id := objs[0].ID
	v := c.Version()
	if _, err := c.SetEnabled(id, true, nil); !errors.Is(err, ErrUnchanged) {
		t.Fatal("enable an enabled object")
	}
	if o, err := c.SetEnabled(id, false, nil); err != nil || !o.Disabled || c.Version() == v {
		t.Fatal("disable")
	}
	if _, err := c.SetPublic(id, true, []string{"values", "name"}, nil); err != nil {
		t.Fatal(err)
	}
	o, _ := c.Object(id)
	if !o.PublicField("values") || o.PublicField("tags") || !slices.Equal(o.PublicFields, []string{"name", "values"}) {
		t.Fatalf("public %+v", o)
	}
	if _, err := c.AddComment(id, clk.Now(), clk.Now().Add(-time.Hour), "x", 1); !errors.Is(err, ErrInvalid) {
		t.Fatal("from > to")
	}
	if _, err := c.AddComment(id, clk.Now(), clk.Now(), "  ", 1); !errors.Is(err, ErrInvalid) {
		t.Fatal("blank comment")
	}
	cm, err := c.AddComment(id, clk.Now(), clk.Now().Add(time.Hour), "maintenance", 1)
	if err != nil || len(c.Comments(id)) != 1 {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if err := c.DeleteComment(id, cm.ID); err != nil {
		t.Fatal(err)
	}
	if len(c.Comments(id)) != 0 || len(c.CommentsAsOf(id, clk.Now())) != 1 || len(c.CommentsAsOf(id, clk.Now().Add(time.Second))) != 0 {
		t.Fatal("comments as of")
	}
	if err := c.DeleteComment(id, cm.ID); !errors.Is(err, ErrUnchanged) {
		t.Fatal("delete twice")
	}
}
