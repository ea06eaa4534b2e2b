package aggregate

import (
	"log/slog"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Options configures Rollups. The zero value works.
type Options struct {
	// Logger receives recovery and rebuild progress and background errors.
	// nil discards them.
	Logger *slog.Logger
	// Metrics is the set the metrics are registered in (see metrics.go).
	// nil means a private set. Close unregisters them.
	Metrics *metrics.Set
	// Now is the clock (durations in log lines, checkpoint pacing). nil
	// means time.Now.
	Now func() time.Time
	// CheckpointInterval is how often every object's open windows are
	// committed and the intents they cover deleted; it bounds the raw data a
	// restart after a crash recomputes. 0 means 10 s.
	CheckpointInterval time.Duration
	// CheckpointIntents starts a checkpoint early after this many Append
	// calls. 0 means 4096.
	CheckpointIntents int
	// PendingBytes is the size at which the batch of closed windows is
	// committed to Pebble (it is also committed at every read). 0 means 1 MiB.
	PendingBytes int
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
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = 10 * time.Second
	}
	if o.CheckpointIntents <= 0 {
		o.CheckpointIntents = 4096
	}
	if o.PendingBytes <= 0 {
		o.PendingBytes = 1 << 20
	}
	return o
}
