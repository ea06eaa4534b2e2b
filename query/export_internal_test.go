package query

import (
	"time"

	"github.com/tsgate/tsgate/acl"
)

// aclWindow is a window in ms for tests; 0 is an open end.
type aclWindow struct{ from, to int64 }

func toWindows(ws []aclWindow) []acl.Window {
	if ws == nil {
		return nil
	}
	out := []acl.Window{}
	for _, w := range ws {
		var aw acl.Window
		if w.from != 0 {
			aw.From = time.UnixMilli(w.from)
		}
		if w.to != 0 {
			aw.To = time.UnixMilli(w.to)
		}
		out = append(out, aw)
	}
	return out
}

// SetParallelMinTarget sets the fewest objects of a parallel rollup query and returns the
// function that restores it.
func SetParallelMinTarget(n int) func() {
	old := parallelMinTarget
	parallelMinTarget = n
	return func() { parallelMinTarget = old }
}
