package dataset

import (
	"strconv"
	"testing"
	"time"
)

func TestDeterministic(t *testing.T) {
	cfg := Config{Objects: 30, Points: 50}
	a, b := New(cfg), New(cfg)
	n := 0
	for {
		x, okx := a.Next()
		y, oky := b.Next()
		if okx != oky || x != y {
			t.Fatalf("sample %d differs: %+v vs %+v", n, x, y)
		}
		if !okx {
			break
		}
		n++
	}
	if n != 30*50 {
		t.Fatalf("got %d samples, want %d", n, 30*50)
	}
	c := New(Config{Objects: 30, Points: 50, Seed: 7})
	s1, _ := New(cfg).Next()
	s2, _ := c.Next()
	if s1 == s2 {
		t.Fatal("different seeds give the same first sample")
	}
}

// TestShape checks the §8 rules: time-major order, jitter in [0, 400),
// decimals per kind, humidity clamped.
func TestShape(t *testing.T) {
	cfg := Config{Objects: 9, Points: 3000}
	g := New(cfg)
	start := DefaultStart.UnixMilli()
	i := 0
	for s, ok := g.Next(); ok; s, ok = g.Next() {
		if s.Object != i%9 || s.Point != i/9 || s.ID != uint32(s.Object+1) {
			t.Fatalf("sample %d is object %d point %d", i, s.Object, s.Point)
		}
		j := s.TS - start - int64(s.Point)*60000
		if j < 0 || j >= 400 {
			t.Fatalf("jitter %d out of [0, 400)", j)
		}
		k := KindOf(s.Object)
		txt := strconv.FormatFloat(s.Value, 'f', -1, 64)
		if d := decimals(txt); d > k.Decimals() {
			t.Fatalf("%v value %s has %d decimals", k.Unit(), txt, d)
		}
		if k == Humidity && (s.Value < 0 || s.Value > 100) {
			t.Fatalf("humidity %v out of [0, 100]", s.Value)
		}
		if k == Power && (s.Value < 200-150 || s.Value > 200+150+40) {
			t.Fatalf("power %v out of range", s.Value)
		}
		i++
	}
}

func decimals(s string) int {
	for i := range s {
		if s[i] == '.' {
			return len(s) - i - 1
		}
	}
	return 0
}

// TestGolden pins the first samples of the standard dataset so the
// generator cannot drift silently (a change invalidates every benchmark).
func TestGolden(t *testing.T) {
	g := New(Config{})
	var got []Sample
	got = g.Fill(got, 3)
	for i := 0; i < StandardObjects-3; i++ {
		g.Next()
	}
	got = g.Fill(got, 3)
	want := goldenSamples
	for i, w := range want {
		s := got[i]
		if s.Object != w.o || s.Point != w.p || s.TS != w.ts || s.Value != w.v {
			t.Errorf("sample %d = %d %d %d %v, want %+v", i, s.Object, s.Point, s.TS, s.Value, w)
		}
	}
}

type golden struct {
	o, p int
	ts   int64
	v    float64
}

var goldenSamples = []golden{
	{0, 0, 1767225600369, 18.68},
	{1, 0, 1767225600387, 16.4},
	{2, 0, 1767225600141, 219},
	{0, 1, 1767225660069, 18.65},
	{1, 1, 1767225660150, 17.4},
	{2, 1, 1767225660293, 232},
}

func TestDefaults(t *testing.T) {
	g := New(Config{})
	if g.Len() != 100_800_000 {
		t.Fatalf("standard dataset has %d samples", g.Len())
	}
	if !g.Config().Start.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) || g.Config().Seed != 42 {
		t.Fatalf("defaults %+v", g.Config())
	}
}
