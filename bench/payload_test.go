package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tsgate/tsgate/bench/dataset"
)

// TestPayloadDeterministic: the same seed gives byte-identical bodies whatever the number of
// formatting workers; another seed gives other bodies.
func TestPayloadDeterministic(t *testing.T) {
	for _, f := range []Format{FormatLine, FormatJSON} {
		build := func(seed int64, workers int) *Payload {
			t.Helper()
			p, err := BuildPayload(PayloadOptions{
				Format: f, Dataset: dataset.Config{Objects: 30, Points: 70, Seed: seed}, Batch: 97,
				Tokens: tokens(30), Workers: workers,
			})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		a, b, c := build(42, 1), build(42, 5), build(7, 2)
		if len(a.Bodies) != (30*70+96)/97 || a.Total != 30*70 {
			t.Fatalf("%s: %d bodies, %d samples", f, len(a.Bodies), a.Total)
		}
		sum := 0
		for i := range a.Bodies {
			if !bytes.Equal(a.Bodies[i], b.Bodies[i]) {
				t.Fatalf("%s: body %d differs between 1 and 5 workers", f, i)
			}
			sum += a.Samples[i]
		}
		if sum != 30*70 || a.Samples[len(a.Samples)-1] != 30*70%97 {
			t.Fatalf("%s: sample counts %v", f, a.Samples)
		}
		if bytes.Equal(a.Bodies[0], c.Bodies[0]) {
			t.Fatalf("%s: seeds 42 and 7 give the same first body", f)
		}
	}
}

func tokens(n int) []string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf("tok%029d", i)
	}
	return ts
}

// TestPayloadShape checks the first samples of the standard dataset in both formats against
// the generator, and that the JSON bodies are valid arrays of BBData measures.
func TestPayloadShape(t *testing.T) {
	g := dataset.New(dataset.Config{Objects: 3, Points: 2})
	var want []dataset.Sample
	want = g.Fill(want, 6)

	line, err := BuildPayload(PayloadOptions{Format: FormatLine, Dataset: dataset.Config{Objects: 3, Points: 2}, IDs: []uint32{10, 20, 30}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(line.Bodies[0]), "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines: %q", len(lines), line.Bodies[0])
	}
	for i, s := range want {
		w := fmt.Sprintf("m,object=%d value=%s %d", (s.Object+1)*10, AppendValue(nil, s), s.TS)
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}

	js, err := BuildPayload(PayloadOptions{Format: FormatJSON, Dataset: dataset.Config{Objects: 3, Points: 2}, Tokens: tokens(3)})
	if err != nil {
		t.Fatal(err)
	}
	var ms []struct {
		ObjectID  uint32 `json:"objectId"`
		Token     string `json:"token"`
		Timestamp string `json:"timestamp"`
		Value     string `json:"value"`
	}
	if err := json.Unmarshal(js.Bodies[0], &ms); err != nil {
		t.Fatalf("%v: %s", err, js.Bodies[0])
	}
	for i, s := range want {
		m := ms[i]
		if m.ObjectID != s.ID || m.Token != tokens(3)[s.Object] || m.Value != string(AppendValue(nil, s)) ||
			len(m.Timestamp) != len("2026-01-01T00:00:00.000Z") || !strings.HasSuffix(m.Timestamp, "Z") {
			t.Errorf("measure %d = %+v, sample %+v", i, m, s)
		}
	}
}

func TestAppendValueDecimals(t *testing.T) {
	f := func(o int, v float64, want string) {
		t.Helper()
		if got := string(AppendValue(nil, dataset.Sample{Object: o, Value: v})); got != want {
			t.Errorf("object %d value %v = %q, want %q", o, v, got, want)
		}
	}
	f(0, 21.5, "21.50") // temperature: 2 decimals
	f(1, 48.25, "48.2") // humidity: 1 decimal (round half to even of the binary value)
	f(2, 235, "235")    // power: integer
	f(3, -0.07, "-0.07")
}

func TestSummarize(t *testing.T) {
	var lat []int
	for i := 100; i >= 1; i-- {
		lat = append(lat, i)
	}
	got := summarize(msDurations(lat))
	if got.Count != 100 || got.P50 != 50 || got.P90 != 90 || got.P99 != 99 || got.Max != 100 || got.Mean != 50.5 {
		t.Fatalf("summarize = %+v", got)
	}
	if one := summarize(msDurations([]int{7})); one.P50 != 7 || one.P99 != 7 || one.Max != 7 {
		t.Fatalf("one = %+v", one)
	}
	if none := summarize(nil); none.Count != 0 {
		t.Fatalf("none = %+v", none)
	}
}

func msDurations(ms []int) []time.Duration {
	ds := make([]time.Duration, len(ms))
	for i, m := range ms {
		ds[i] = time.Duration(m) * time.Millisecond
	}
	return ds
}

// BenchmarkBuildPayload: the cost per sample of generating and formatting the dataset, which
// is why the bodies are pre-built (docs/decisions/0012-bench-harness.md).
func BenchmarkBuildPayload(b *testing.B) {
	for _, f := range []Format{FormatLine, FormatJSON} {
		b.Run(f.String(), func(b *testing.B) {
			b.ReportAllocs()
			cfg := dataset.Config{Objects: 1000, Points: 100}
			for b.Loop() {
				p, err := BuildPayload(PayloadOptions{Format: f, Dataset: cfg, Tokens: tokens(1000), Workers: 1})
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(p.Bytes)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(cfg.Objects*cfg.Points), "ns/sample")
		})
	}
}
