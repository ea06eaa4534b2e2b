package aggregate

import (
	"github.com/VictoriaMetrics/metrics"
)

// rollupMetrics are registered in Options.Metrics:
//
//	tsgate_rollup_bytes                      gauge    Pebble's estimate of the 'r' key range on disk (API.md §4)
//	tsgate_rollup_objects                    gauge    objects with rollup state in memory
//	tsgate_rollup_rows_written_total         counter  rows written (an hour record counts its hour and quarters)
//	tsgate_rollup_recomputes_total{kind="hour"} counter  open hours rescanned from raw data (late or overwritten samples)
//	tsgate_rollup_recomputes_total{kind="day"}  counter  days recomputed from raw data (late data, deletes, recovery)
//	tsgate_rollup_checkpoints_total          counter
//	tsgate_rollup_commits_total              counter  batches of rows committed
type rollupMetrics struct {
	set   *metrics.Set
	names []string

	rows        *metrics.Counter
	hourRecomp  *metrics.Counter
	dayRecomp   *metrics.Counter
	checkpoints *metrics.Counter
	commits     *metrics.Counter
}

func newRollupMetrics(r *Rollups, set *metrics.Set) *rollupMetrics {
	m := &rollupMetrics{set: set}
	gauge := func(name string, f func() float64) {
		m.names = append(m.names, name)
		set.GetOrCreateGauge(name, f)
	}
	counter := func(name string) *metrics.Counter {
		m.names = append(m.names, name)
		return set.GetOrCreateCounter(name)
	}
	gauge("tsgate_rollup_bytes", func() float64 {
		if r.closed.Load() {
			return 0
		}
		n, err := r.pdb.EstimateDiskUsage(keyspaceLo, keyspaceHi)
		if err != nil {
			return 0
		}
		return float64(n)
	})
	gauge("tsgate_rollup_objects", func() float64 { return float64(r.nObjects.Load()) })
	m.rows = counter("tsgate_rollup_rows_written_total")
	m.hourRecomp = counter(`tsgate_rollup_recomputes_total{kind="hour"}`)
	m.dayRecomp = counter(`tsgate_rollup_recomputes_total{kind="day"}`)
	m.checkpoints = counter("tsgate_rollup_checkpoints_total")
	m.commits = counter("tsgate_rollup_commits_total")
	return m
}

func (m *rollupMetrics) unregister() {
	for _, n := range m.names {
		m.set.UnregisterMetric(n)
	}
}

// Metrics returns the set the metrics are in (Options.Metrics or a private one).
func (r *Rollups) Metrics() *metrics.Set { return r.m.set }
