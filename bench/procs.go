package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is a server process a comparison started: in its own process group, stopped by Stop.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string // its combined output file
	done chan struct{}
	err  error
}

// StartProc starts a server with its output to logPath (and its pid beside it, .pid for
// .log), in a new process group so that stopping it stops its children too.
func StartProc(name, logPath string, env []string, bin string, args ...string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("bench: cannot start %s (%s): %w", name, bin, err)
	}
	// A pid file beside the log, so a wrapper script can kill the group if we die.
	_ = os.WriteFile(strings.TrimSuffix(logPath, ".log")+".pid", []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// Stop sends SIGTERM to the process group, waits up to grace, then SIGKILLs it. It is safe to
// call twice.
func (p *Proc) Stop(grace time.Duration) error {
	if p == nil || p.Cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("bench: %s did not stop within %s; killed", p.Name, grace)
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// PeakRSS is the process's peak resident set (VmHWM) in bytes, 0 when unknown.
func (p *Proc) PeakRSS() int64 { return procStatus(p.Cmd.Process.Pid, "VmHWM:") }

// CPUTime is the user + system CPU the process has used so far (from /proc/PID/stat, in
// clock ticks of 1/100 s), 0 when unknown.
func (p *Proc) CPUTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: fields are counted after its ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// RSS is the process's resident set (VmRSS) in bytes, 0 when unknown.
func (p *Proc) RSS() int64 { return procStatus(p.Cmd.Process.Pid, "VmRSS:") }

func procStatus(pid int, key string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), key); ok {
			fs := strings.Fields(rest)
			if len(fs) > 0 {
				kb, _ := strconv.ParseInt(fs[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// WaitHTTP polls url until it answers a status below 500, the process exits or timeout passes.
func WaitHTTP(ctx context.Context, p *Proc, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: time.Second}
	for {
		res, err := c.Get(url)
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode < 500 {
				return nil
			}
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("bench: %s exited before answering %s (see %s: %s)", p.Name, url, p.Log, tail(p.Log, 400))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("bench: %s did not answer %s within %s", procName(p), url, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func procName(p *Proc) string {
	if p == nil {
		return "server"
	}
	return p.Name
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

// DirSize is the total size of the regular files under dir, skipping subdirectories named in
// skip (e.g. VictoriaMetrics' cache).
func DirSize(dir string, skip ...string) (int64, error) {
	return dirSize(dir, nil, skip...)
}

// dirSize is DirSize counting only the files keep accepts (nil = all).
func dirSize(dir string, keep func(name string) bool, skip ...string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			for _, s := range skip {
				if d.Name() == s && path != dir {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if d.Type().IsRegular() && (keep == nil || keep(d.Name())) {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total, err
}

// WaitStableSize waits until DirSize(dir) has not changed for `quiet` polls of every, or
// until timeout; it returns the last size.
func WaitStableSize(ctx context.Context, dir string, every time.Duration, quiet int, timeout time.Duration, skip ...string) int64 {
	deadline := time.Now().Add(timeout)
	prev, same := int64(-1), 0
	for {
		cur, _ := DirSize(dir, skip...)
		if cur == prev {
			same++
		} else {
			same = 0
		}
		if same >= quiet || time.Now().After(deadline) || ctx.Err() != nil {
			return cur
		}
		prev = cur
		time.Sleep(every)
	}
}

// ScrapeMetrics fetches a Prometheus text exposition and returns, per metric name, the sum of
// its samples whose labels contain every filter substring (none = all).
func ScrapeMetrics(ctx context.Context, url string) (Metrics, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bench: cannot scrape %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("bench: %s answered %d", url, res.StatusCode)
	}
	var m Metrics
	s := bufio.NewScanner(res.Body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		name, labels := line[:sp], ""
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name, labels = name[:i], name[i:]
		}
		m = append(m, metricSample{name, labels, v})
	}
	return m, s.Err()
}

// Metrics is a scraped exposition.
type Metrics []metricSample

type metricSample struct {
	name, labels string
	value        float64
}

// Sum adds up the samples of name whose labels contain every filter substring.
func (m Metrics) Sum(name string, filters ...string) float64 {
	var t float64
outer:
	for _, s := range m {
		if s.name != name {
			continue
		}
		for _, f := range filters {
			if !strings.Contains(s.labels, f) {
				continue outer
			}
		}
		t += s.value
	}
	return t
}
