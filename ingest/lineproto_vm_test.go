package ingest

import (
	"fmt"
	"testing"

	vminflux "github.com/VictoriaMetrics/VictoriaMetrics/lib/protoparser/influx"
)

// BenchmarkLineProtocolVM is the baseline twin of BenchmarkLineProtocol:
// VictoriaMetrics' lib/protoparser/influx (v1.150.0) over the same body.
func BenchmarkLineProtocolVM(b *testing.B) {
	body := string(buildLineBody(benchBatch))
	var rows vminflux.Rows
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := rows.Unmarshal(body, false); err != nil || len(rows.Rows) != benchBatch {
			b.Fatal(err, len(rows.Rows))
		}
	}
	reportSamples(b, benchBatch)
}

// TestLineProtocolAgainstVM parses the same well-formed bodies with
// VictoriaMetrics' parser and compares object tags, values and timestamps.
func TestLineProtocolAgainstVM(t *testing.T) {
	body := string(buildLineBody(2000)) +
		"cpu\\,x\\ y,host=a\\ b,object=42,region=us\\=w value=1.5,other=2i 1767225600123000000\n" +
		"m,object=7 other=1,value=-2e3\n" +
		"m,a=1,object=8,z=2 value=0.001 1767225600999999999\n"
	var rows vminflux.Rows
	if err := rows.Unmarshal(body, false); err != nil {
		t.Fatal(err)
	}
	p := GetLineParser()
	defer PutLineParser(p)
	ss, err := p.Parse([]byte(body), PrecisionNs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(rows.Rows) {
		t.Fatalf("%d samples, VictoriaMetrics %d rows", len(ss), len(rows.Rows))
	}
	for i, r := range rows.Rows {
		s := &ss[i]
		var obj string
		for _, tag := range r.Tags {
			if tag.Key == "object" {
				obj = tag.Value
			}
		}
		var val float64
		for _, f := range r.Fields {
			if f.Key == "value" {
				val = f.Value
			}
		}
		wantTS := r.Timestamp / 1e6
		if r.Timestamp == 0 {
			wantTS = testNow
		}
		if fmt.Sprint(s.Object) != obj || s.Float != val || s.Timestamp != wantTS {
			t.Fatalf("line %d: object %d value %v ts %d; VictoriaMetrics object %s value %v ts %d", s.Line, s.Object, s.Float, s.Timestamp, obj, val, wantTS)
		}
	}
}
