package tsdb

import (
	"log/slog"

	"github.com/VictoriaMetrics/metrics"
)

// DefaultHeadBytes is the head budget when Options.HeadBytes is zero. At the
// replay speed measured on the reference machine (bench/RESULTS.md) a full head
// replays in a few seconds, inside DESIGN.md §4's ~10 s.
const DefaultHeadBytes = 256 << 20

// Options configures a DB. The zero value works.
type Options struct {
	// Logger receives tsdb's and Pebble's log lines. nil discards them.
	Logger *slog.Logger
	// Metrics is the set the DB registers its metrics in (names of API.md §4
	// and more, see metrics.go). nil means a private set (Metrics()). A set
	// holds the metrics of one open DB at a time; Close unregisters them.
	Metrics *metrics.Set
	// HeadBytes bounds the in-memory head; when exceeded the head is flushed
	// to blocks in the background. 0 means DefaultHeadBytes.
	HeadBytes int64
	// MaxBlockSamples caps the samples of one block. 0 means 8192; at most 65536.
	MaxBlockSamples int
	// PebbleCacheBytes is Pebble's block cache size, beyond the memtables
	// (Pebble counts those against its cache; Open adds room for them). 0
	// means 64 MiB.
	PebbleCacheBytes int64
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.HeadBytes <= 0 {
		o.HeadBytes = DefaultHeadBytes
	}
	if o.MaxBlockSamples <= 0 {
		o.MaxBlockSamples = 8192
	}
	o.MaxBlockSamples = min(o.MaxBlockSamples, maxBlockCount)
	if o.PebbleCacheBytes <= 0 {
		o.PebbleCacheBytes = 64 << 20
	}
	return o
}
