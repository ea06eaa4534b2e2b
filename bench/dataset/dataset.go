// Package dataset generates the standard benchmark dataset of DESIGN.md §8,
// deterministic for a seed. It is a leaf package (stdlib only) that the tests and
// benchmarks of any package may import.
//
// The dataset (normative, DESIGN.md §8): N objects, points time-major (every
// object's point p, then p+1); point p of object o is at
// start + p min + U[0, 400) ms; one math/rand source seeded with Seed (42)
// draws first one Float64 per object in order (initial states), then per
// point and object the jitter Intn(400) followed by that object's value draw.
// Objects fall in thirds by o % 3 (o is the 0-based object index; its id is
// o + 1):
//
//	o%3 == 0  temperature °C: state 15 + 10·U, walk + N(0, 0.05) (NormFloat64·0.05), value rounded to 2 decimals
//	o%3 == 1  humidity %:     state 15 + 10·U, walk + N(0, 0.3) + 0.02·(50 − h), clamped to [0, 100], value rounded to 1 decimal
//	o%3 == 2  power W:        200 + 150·sin(p/30) + 40·U (one Float64 per point), rounded to an integer
//
// The walk state keeps full precision; only the emitted value is rounded. All
// three are float objects.
package dataset

import (
	"math"
	"math/rand"
	"time"
)

// DefaultStart is the default time of point 0: 2026-01-01T00:00:00Z.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// YearStart is where year-long series start (2025-01-01), so all of a year lies in the past.
var YearStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Standard sizes: 10 000 objects × 7 days at one point a minute (100.8 M samples).
const (
	StandardObjects = 10_000
	StandardPoints  = 7 * 24 * 60
	DefaultSeed     = 42
)

// Config selects a dataset. The zero value is the standard dataset.
type Config struct {
	Objects int       // 0 = StandardObjects
	Points  int       // points per object; 0 = StandardPoints
	Start   time.Time // zero = DefaultStart
	Seed    int64     // 0 = DefaultSeed
}

func (c Config) withDefaults() Config {
	if c.Objects <= 0 {
		c.Objects = StandardObjects
	}
	if c.Points <= 0 {
		c.Points = StandardPoints
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.Seed == 0 {
		c.Seed = DefaultSeed
	}
	return c
}

// Kind of an object.
type Kind int

const (
	Temperature Kind = iota // °C, 2 decimals
	Humidity                // %, 1 decimal
	Power                   // W, integer
)

// KindOf returns the kind of the object with 0-based index o.
func KindOf(o int) Kind { return Kind(o % 3) }

// Unit returns the unit symbol of a kind.
func (k Kind) Unit() string { return [...]string{"°C", "%", "W"}[k] }

// Decimals returns the decimals a kind's values are rounded to.
func (k Kind) Decimals() int { return [...]int{2, 1, 0}[k] }

// Sample is one generated point.
type Sample struct {
	Object int    // 0-based object index
	ID     uint32 // object id = Object + 1
	Point  int    // point index
	TS     int64  // ms since the Unix epoch
	Value  float64
}

// Generator produces the samples of a Config in order. It is not safe for
// concurrent use.
type Generator struct {
	cfg     Config
	rnd     *rand.Rand
	state   []float64
	startMs int64
	o, p    int
}

// New returns a generator positioned at the first sample.
func New(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	g := &Generator{cfg: cfg, rnd: rand.New(rand.NewSource(cfg.Seed)), state: make([]float64, cfg.Objects)}
	g.startMs = cfg.Start.UnixMilli()
	for o := range g.state {
		g.state[o] = g.rnd.Float64()
	}
	for o := range g.state {
		if KindOf(o) != Power {
			g.state[o] = 15 + 10*g.state[o]
		}
	}
	return g
}

// Config returns the generator's configuration with defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Len returns the total number of samples.
func (g *Generator) Len() int { return g.cfg.Objects * g.cfg.Points }

// Next returns the next sample, or false after the last one.
func (g *Generator) Next() (Sample, bool) {
	if g.p >= g.cfg.Points {
		return Sample{}, false
	}
	o, p := g.o, g.p
	ts := g.startMs + int64(p)*60_000 + int64(g.rnd.Intn(400))
	var v float64
	switch KindOf(o) {
	case Temperature:
		g.state[o] += g.rnd.NormFloat64() * 0.05
		v = round(g.state[o], 100)
	case Humidity:
		h := g.state[o]
		h += g.rnd.NormFloat64()*0.3 + 0.02*(50-h)
		h = math.Min(100, math.Max(0, h))
		g.state[o] = h
		v = round(h, 10)
	case Power:
		v = math.Round(200 + 150*math.Sin(float64(p)/30) + 40*g.rnd.Float64())
	}
	g.o++
	if g.o == g.cfg.Objects {
		g.o = 0
		g.p++
	}
	return Sample{Object: o, ID: uint32(o + 1), Point: p, TS: ts, Value: v}, true
}

func round(x, scale float64) float64 { return math.Round(x*scale) / scale }

// Fill appends up to n next samples to dst and returns it (fewer at the end).
func (g *Generator) Fill(dst []Sample, n int) []Sample {
	for i := 0; i < n; i++ {
		s, ok := g.Next()
		if !ok {
			break
		}
		dst = append(dst, s)
	}
	return dst
}
