package bench

import (
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// newTimeBar is a live counter of requests for a run bounded by time (d), on a terminal.
func newTimeBar(w io.Writer, desc string, d time.Duration) *progressbar.ProgressBar {
	return progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc+" (up to "+d.String()+")"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
