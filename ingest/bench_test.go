package ingest

import (
	"encoding/json"
	"testing"
	"time"
)

// Benchmarks over 5000-measure bodies of the standard dataset, beside their
// baseline twins (encoding/json + time.Parse; VictoriaMetrics' influx parser
// in lineproto_vm_test.go). Run:
//
//	go test ./ingest -run XXX -bench . -benchmem -count 3
const benchBatch = 5000

func reportSamples(b *testing.B, n int) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/sample")
}

func BenchmarkMeasuresJSON(b *testing.B) {
	body := buildJSONBody(benchBatch)
	p := GetMeasuresParser()
	defer PutMeasuresParser(p)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ms, err := p.ParseArray(body, testNow)
		if err != nil || len(ms) != benchBatch {
			b.Fatal(err)
		}
	}
	reportSamples(b, benchBatch)
}

// stdMeasure is the encoding/json twin of Measure.
type stdMeasure struct {
	ObjectID  json.Number     `json:"objectId"`
	Token     *string         `json:"token"`
	Timestamp *string         `json:"timestamp"`
	Value     json.RawMessage `json:"value"`
	Comment   *string         `json:"comment"`
}

func BenchmarkMeasuresJSONStdlib(b *testing.B) {
	body := buildJSONBody(benchBatch)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var ms []stdMeasure
		if err := json.Unmarshal(body, &ms); err != nil || len(ms) != benchBatch {
			b.Fatal(err)
		}
		for i := range ms {
			if _, err := ms[i].ObjectID.Int64(); err != nil {
				b.Fatal(err)
			}
			if ms[i].Timestamp != nil {
				if _, err := time.Parse(time.RFC3339Nano, *ms[i].Timestamp); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	reportSamples(b, benchBatch)
}

func BenchmarkLineProtocol(b *testing.B) {
	body := buildLineBody(benchBatch)
	p := GetLineParser()
	defer PutLineParser(p)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		ss, err := p.Parse(body, PrecisionNs, testNow)
		if err != nil || len(ss) != benchBatch {
			b.Fatal(err)
		}
	}
	reportSamples(b, benchBatch)
}
