package ingest

import (
	"strconv"

	"github.com/tsgate/tsgate/bench/dataset"
)

// sample is one point of the standard dataset with its value printed as the
// dataset prints it (2, 1 or 0 decimals by kind).
type sample struct {
	ID   uint32
	TS   int64
	Text string
}

// datasetSamples returns the first n samples of the standard dataset
// (DESIGN.md §8): 10 000 objects, time-major, so a 5000-measure batch holds
// point 0 of objects 1…5000.
func datasetSamples(n int) []sample {
	g := dataset.New(dataset.Config{})
	out := make([]sample, 0, n)
	for len(out) < n {
		s, ok := g.Next()
		if !ok {
			break
		}
		out = append(out, sample{s.ID, s.TS, strconv.FormatFloat(s.Value, 'f', dataset.KindOf(s.Object).Decimals(), 64)})
	}
	return out
}
