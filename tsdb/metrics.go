package tsdb

import (
	"github.com/VictoriaMetrics/metrics"
)

// dbMetrics are the DB's metrics, registered in Options.Metrics.
type dbMetrics struct {
	set   *metrics.Set
	names []string
}

func newDBMetrics(db *DB, set *metrics.Set) *dbMetrics {
	m := &dbMetrics{set: set}
	return m
}

func (m *dbMetrics) unregister() {
	for _, n := range m.names {
		m.set.UnregisterMetric(n)
	}
}
