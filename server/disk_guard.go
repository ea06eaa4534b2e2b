package server

import (
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/tsgate/tsgate/api"
)

// diskGuard refuses writes when the data directory's file system is nearly full: Pebble
// panics on a WAL write error, so tsgate stops accepting writes (503) while at least MinFree
// bytes are still free, and accepts them again when space returns. Nothing acknowledged is
// lost: a refused request was never written.
type diskGuard struct {
	dir     string
	minFree uint64
	free    func(dir string) (uint64, error)
	every   time.Duration

	mu struct {
		sync.Mutex
		checked time.Time
		free    uint64
		err     error
	}
}

// statfsFree returns the bytes available to unprivileged users on dir's file system.
func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// check is the api.Options.WriteGuard. It reads the free space at most once per g.every.
func (g *diskGuard) check() error {
	g.mu.Lock()
	if time.Since(g.mu.checked) >= g.every {
		g.mu.free, g.mu.err = g.free(g.dir)
		g.mu.checked = time.Now()
	}
	free, err := g.mu.free, g.mu.err
	g.mu.Unlock()
	if err != nil {
		return nil // cannot tell: let Pebble decide rather than refuse everything
	}
	if free < g.minFree {
		return &api.Error{Status: fasthttp.StatusServiceUnavailable, Exception: api.ExcServiceUnavailable,
			Details: fmt.Sprintf("the disk of the data directory is nearly full (%d MiB free, %d MiB reserved): writes are refused until space is freed",
				free>>20, g.minFree>>20), RetryAfter: 30}
	}
	return nil
}
