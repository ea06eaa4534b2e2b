package tsdb

import (
	"github.com/VictoriaMetrics/metrics"
)

// dbMetrics are the DB's metrics, registered in Options.Metrics:
//
//	tsgate_tsdb_samples            gauge   distinct samples stored, head included (API.md §4)
//	tsgate_tsdb_blocks_bytes       gauge   Pebble's estimate of the block key range on disk (API.md §4)
//	tsgate_wal_bytes               gauge   bytes of WAL records not yet flushed (API.md §4)
//	tsgate_head_samples            gauge   samples in the in-memory head (API.md §4)
//	tsgate_tsdb_head_bytes         gauge   head bytes counted against Options.HeadBytes
//	tsgate_tsdb_blocks             gauge   block keys
//	tsgate_tsdb_appended_samples_total counter  samples acknowledged by Append
//	tsgate_tsdb_append_calls_total     counter
//	tsgate_tsdb_flushes_total          counter
//	tsgate_tsdb_flushed_samples_total  counter
//	tsgate_tsdb_compactions_total      counter
//	tsgate_tsdb_flush_memtable_overlaps_total counter  flushes whose ingestion overlapped the memtable (and waited for its flush)
//	tsgate_tsdb_fsync_wait_seconds     histogram  Append's wait for the shared WAL fsync
type dbMetrics struct {
	set   *metrics.Set
	names []string

	fsync          *metrics.Histogram
	appended       *metrics.Counter
	appendCalls    *metrics.Counter
	flushes        *metrics.Counter
	flushedSamples *metrics.Counter
	compactions    *metrics.Counter
	ingestOverlaps *metrics.Counter
}

func newDBMetrics(db *DB, set *metrics.Set) *dbMetrics {
	m := &dbMetrics{set: set}
	gauge := func(name string, f func() float64) {
		m.names = append(m.names, name)
		set.GetOrCreateGauge(name, f)
	}
	counter := func(name string) *metrics.Counter {
		m.names = append(m.names, name)
		return set.GetOrCreateCounter(name)
	}
	gauge("tsgate_tsdb_samples", func() float64 { return float64(db.totalSamples.Load()) })
	gauge("tsgate_tsdb_blocks_bytes", func() float64 {
		if db.closed.Load() {
			return 0
		}
		n, err := db.pdb.EstimateDiskUsage(blockStart, blockEnd)
		if err != nil {
			return 0
		}
		return float64(n)
	})
	gauge("tsgate_wal_bytes", func() float64 { return float64(db.walBytes.Load()) })
	gauge("tsgate_head_samples", func() float64 { return float64(db.headSamples.Load()) })
	gauge("tsgate_tsdb_head_bytes", func() float64 { return float64(db.headBytes.Load()) })
	gauge("tsgate_tsdb_blocks", func() float64 { return float64(db.blocks.Load()) })
	m.appended = counter("tsgate_tsdb_appended_samples_total")
	m.appendCalls = counter("tsgate_tsdb_append_calls_total")
	m.flushes = counter("tsgate_tsdb_flushes_total")
	m.flushedSamples = counter("tsgate_tsdb_flushed_samples_total")
	m.compactions = counter("tsgate_tsdb_compactions_total")
	m.ingestOverlaps = counter("tsgate_tsdb_flush_memtable_overlaps_total")
	m.names = append(m.names, "tsgate_tsdb_fsync_wait_seconds")
	m.fsync = set.GetOrCreateHistogram("tsgate_tsdb_fsync_wait_seconds")
	return m
}

func (m *dbMetrics) unregister() {
	for _, n := range m.names {
		m.set.UnregisterMetric(n)
	}
}

// Metrics returns the set the DB's metrics are in (Options.Metrics or a
// private one).
func (db *DB) Metrics() *metrics.Set { return db.m.set }
