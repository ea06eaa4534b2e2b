package bench

import (
	"math"
	"slices"
	"time"
)

// event is one finished request: when it started (since the run's start), how long it took,
// its status (0 = transport error) and the samples or rows it carried.
type event struct {
	start, took time.Duration
	status      int
	n           int64
}

// recorder collects one worker's events; workers each own one, merged at the end.
type recorder struct {
	events []event
	bytes  int64 // request bytes sent
}

func (r *recorder) add(start, took time.Duration, status int, n int64) {
	r.events = append(r.events, event{start, took, status, n})
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"meanMs"`
	P50   float64 `json:"p50Ms"`
	P90   float64 `json:"p90Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

// summarize returns the exact percentiles (nearest rank) of ds. It sorts ds.
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	rank := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ms(ds[max(i, 0)])
	}
	return Latency{
		Count: len(ds),
		Mean:  ms(sum / time.Duration(len(ds))),
		P50:   rank(0.50),
		P90:   rank(0.90),
		P99:   rank(0.99),
		Max:   ms(ds[len(ds)-1]),
	}
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// TimePoint is one interval of a run's timeline.
type TimePoint struct {
	At    float64 `json:"atS"`   // end of the interval, seconds since the start
	Rate  float64 `json:"rate"`  // samples (or rows) per second completed in the interval
	Reqs  float64 `json:"reqs"`  // requests per second completed in the interval
	P50   float64 `json:"p50Ms"` // latency of the requests completed in the interval
	P99   float64 `json:"p99Ms"`
	Error int     `json:"errors"`
}

// timeline buckets events by completion time into intervals of step.
func timeline(events []event, step time.Duration, ok func(int) bool) []TimePoint {
	if len(events) == 0 || step <= 0 {
		return nil
	}
	var end time.Duration
	for _, e := range events {
		end = max(end, e.start+e.took)
	}
	nb := int(end/step) + 1
	lat := make([][]time.Duration, nb)
	tp := make([]TimePoint, nb)
	for _, e := range events {
		i := int((e.start + e.took) / step)
		lat[i] = append(lat[i], e.took)
		if ok(e.status) {
			tp[i].Rate += float64(e.n)
		} else {
			tp[i].Error++
		}
	}
	for i := range tp {
		width := step.Seconds()
		if i == nb-1 { // the last interval is partial
			width = (end - time.Duration(i)*step).Seconds()
		}
		tp[i].At = float64(i)*step.Seconds() + width
		if width > 0 {
			tp[i].Rate /= width
			tp[i].Reqs = float64(len(lat[i])) / width
		}
		s := summarize(lat[i])
		tp[i].P50, tp[i].P99 = s.P50, s.P99
	}
	return tp
}
