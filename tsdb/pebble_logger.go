package tsdb

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// pebbleLogger routes Pebble's log lines to slog (Pebble's default logger
// prints to stderr on Open).
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l.Enabled(context.Background(), slog.LevelDebug) {
		p.l.Debug(strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("tsdb: pebble fatal error: " + msg)
}
