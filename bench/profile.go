package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// ErrNoPprof reports a server that does not expose /debug/pprof (tsgate serve does not; run
// the node under bench/profserve to profile it).
var ErrNoPprof = fmt.Errorf("bench: the server exposes no /debug/pprof/profile; run it under bench/profserve (go run ./bench/profserve) and pass its -pprof address as --pprof-url")

// FetchCPUProfile takes a CPU profile of `seconds` from baseURL/debug/pprof/profile into path.
// Start it together with the load; it returns when the profile is written.
func FetchCPUProfile(ctx context.Context, baseURL string, seconds int, path string) error {
	u := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimRight(baseURL, "/"), seconds)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	c := &http.Client{Timeout: time.Duration(seconds)*time.Second + time.Minute}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("bench: cannot fetch a CPU profile from %s: %w", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return ErrNoPprof
	}
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		return fmt.Errorf("bench: %s answered %d: %s", u, res.StatusCode, strings.TrimSpace(string(b)))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
