package aggregate

import (
	"github.com/VictoriaMetrics/metrics"
)

// rollupMetrics are registered in Options.Metrics:
//
//	tsgate_rollup_bytes                            gauge    Pebble's estimate of the 'r' key range on disk (API.md §4)
//	tsgate_rollup_groups_written_total             counter  row groups written (a day of quarters or hours, 32 days of days)
//	tsgate_rollup_group_bytes_written_total        counter  bytes of the row groups written (values, before Pebble's compression)
//	tsgate_rollup_recomputes_total{kind="day"}     counter  days recomputed from raw data at a flush or a delete (late data, overwrites, cut days)
//	tsgate_rollup_recomputes_total{kind="window"}  counter  windows recomputed from raw data by a read (head samples replacing flushed ones)
//	tsgate_rollup_rebuilds_total                   counter  full recomputations (Open after a change while detached, Rebuild)
type rollupMetrics struct {
	set   *metrics.Set
	names []string

	groups       *metrics.Counter
	groupBytes   *metrics.Counter
	dayRecomp    *metrics.Counter
	windowRecomp *metrics.Counter
	rebuilds     *metrics.Counter
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
	m.groups = counter("tsgate_rollup_groups_written_total")
	m.groupBytes = counter("tsgate_rollup_group_bytes_written_total")
	m.dayRecomp = counter(`tsgate_rollup_recomputes_total{kind="day"}`)
	m.windowRecomp = counter(`tsgate_rollup_recomputes_total{kind="window"}`)
	m.rebuilds = counter("tsgate_rollup_rebuilds_total")
	return m
}

func (m *rollupMetrics) unregister() {
	for _, n := range m.names {
		m.set.UnregisterMetric(n)
	}
}

// Metrics returns the set the metrics are in (Options.Metrics or a private one).
func (r *Rollups) Metrics() *metrics.Set { return r.m.set }
