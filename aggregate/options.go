package aggregate

import (
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Options configures Rollups. The zero value works.
type Options struct {
	// Logger receives rebuild progress. nil discards it.
	Logger *slog.Logger
	// Metrics is the set the metrics are registered in (see metrics.go).
	// nil means a private set. Close unregisters them.
	Metrics *metrics.Set
	// Now is the clock (durations in log lines). nil means time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewSet()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
