package ingest

import (
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
