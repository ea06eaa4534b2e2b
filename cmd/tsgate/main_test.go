package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/tsgate/tsgate/tsdb"
)

var binary string

// TestMain builds the real binary once; the tests start it as a subprocess.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tsgate-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tsgate")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	addr   string
	done   chan error
}

// startServe starts `tsgate serve` on a fresh port and waits until /health answers.
func startServe(t *testing.T, data string) *proc {
	t.Helper()
	p := &proc{addr: freeAddr(t), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "serve", "--listen", p.addr, "--data", data, "--log-level", "debug")
	p.cmd.Env = append(os.Environ(), "TSGATE_ADMIN_PASSWORD=test-password", "TSGATE_PASSWORD_COST=4", "TSGATE_MIN_FREE_DISK=-1")
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + p.addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve exited early: %v\n%s", err, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not become healthy in 30 s\n%s", p.stderr)
	return nil
}

func TestServeSIGTERMExitsZeroAndReopens(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	resp, err := http.Get("http://" + p.addr + "/about")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /about: %v %v", err, resp)
	}
	resp.Body.Close()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after SIGTERM\n%s", p.stderr)
	}
	t.Logf("SIGTERM → exit 0 in %s", time.Since(start))
	if !strings.Contains(p.stderr.String(), "stopped cleanly") {
		t.Errorf("no clean-stop log line:\n%s", p.stderr)
	}
	// Reopens cleanly on the same data dir, without a second bootstrap.
	p2 := startServe(t, data)
	if strings.Contains(p2.stderr.String(), "bootstrap: created") {
		t.Errorf("second start bootstrapped again:\n%s", p2.stderr)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p2.done; err != nil {
		t.Fatalf("second exit: %v", err)
	}
}

func TestSecondServeOnSameDataDirFails(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	startServe(t, data)
	cmd := exec.Command(binary, "serve", "--listen", freeAddr(t), "--data", data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() == 0 {
		t.Fatalf("second serve: err=%v, want a non-zero exit\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "tsgate: ") || !strings.Contains(last, "in use by another tsgate process") {
		t.Fatalf("message = %q, want one clear line about the locked data dir", stderr.String())
	}
}

func TestCLIErrorsAreOneLineNonZero(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"admin", "explode"}, `unknown admin command "explode"`},
		{[]string{"serve", "--log-format", "xml", "--data", "@"}, "bad --log-format"},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), c.want) || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 {
			t.Errorf("run(%q) = %d, stderr %q; want non-zero and one line containing %q", c.args, code, stderr.String(), c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "tsgate ") {
		t.Errorf("version = %d %q", code, stdout.String())
	}
}

func TestAdminResetPassword(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	cmd := exec.Command(binary, "admin", "reset-password", "--data", data, "--password-stdin")
	cmd.Stdin = strings.NewReader("brand-new-pass\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	p = startServe(t, data)
	body := `{"username":"admin","password":"brand-new-pass"}`
	resp, err := http.Post("http://"+p.addr+"/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		line, _ := bufio.NewReader(resp.Body).ReadString(0)
		t.Fatalf("login with the reset password = %d %s", resp.StatusCode, line)
	}
}

func TestAdminCompact(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	// Refused while the server holds the data dir.
	out, err := exec.Command(binary, "admin", "compact", "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by a running tsgate") {
		t.Fatalf("compact on a live dir: %v %s", err, out)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	out, err = exec.Command(binary, "admin", "compact", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "compacted") {
		t.Fatalf("compact: %v %s", err, out)
	}
}

func TestAdminBackupAndRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	p := startServe(t, data)
	env := append(os.Environ(), "TSGATE_ADMIN_PASSWORD=test-password")
	backup := exec.Command(binary, "admin", "backup", "--url", "http://"+p.addr, "--out", "nightly")
	backup.Env = env
	if out, err := backup.CombinedOutput(); err != nil || !strings.Contains(string(out), "backup written to") {
		t.Fatalf("admin backup: %v %s", err, out)
	}
	outside := exec.Command(binary, "admin", "backup", "--url", "http://"+p.addr, "--out", "/tmp/elsewhere")
	outside.Env = env
	if out, err := outside.CombinedOutput(); err == nil || !strings.Contains(string(out), "not inside the backup directory") {
		t.Fatalf("backup outside --backup-dir: %v %s", err, out)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	from := filepath.Join(dir, "tsgate-backups", "nightly")
	// Refuses a non-empty target.
	if out, err := exec.Command(binary, "admin", "restore", "--from", from, "--data", data).CombinedOutput(); err == nil || !strings.Contains(string(out), "not empty") {
		t.Fatalf("restore onto a non-empty dir: %v %s", err, out)
	}
	restored := filepath.Join(dir, "restored")
	if out, err := exec.Command(binary, "admin", "restore", "--from", from, "--data", restored).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	// The restored node starts and knows its admin.
	p2 := startServe(t, restored)
	resp, err := http.Post("http://"+p2.addr+"/login", "application/json", strings.NewReader(`{"username":"admin","password":"test-password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("login on the restored node: %v %v", err, resp)
	}
	resp.Body.Close()
}

func TestAdminRebuildRollups(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	out, err := exec.Command(binary, "admin", "rebuild-rollups", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "rollups rebuilt") {
		t.Fatalf("rebuild-rollups: %v %s", err, out)
	}
}

func TestAdminCheck(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
	out, err := exec.Command(binary, "admin", "check", "--data", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "no problems found") {
		t.Fatalf("check of a healthy store: %v %s", err, out)
	}
	// Put a block in the store, flip one byte of it, and check again.
	db, err := tsdb.Open(data, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSeriesNow(4242, tsdb.Float); err != nil {
		t.Fatal(err)
	}
	var b tsdb.Batch
	for i := int64(0); i < 500; i++ {
		b.AddFloat(4242, 1_700_000_000_000+i*60_000, float64(i))
	}
	if err := db.Append(context.Background(), &b, tsdb.Reject); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	it, err := db.Pebble().NewIter(&pebble.IterOptions{LowerBound: []byte{'b'}, UpperBound: []byte{'c'}})
	if err != nil {
		t.Fatal(err)
	}
	if !it.First() {
		t.Fatal("no block written")
	}
	key, val := append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...)
	it.Close()
	val[len(val)/2] ^= 0x10
	if err := db.Pebble().Set(key, val, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(binary, "admin", "check", "--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "object 4242") || !strings.Contains(string(out), "2023-11-14T22:13:20.000Z") {
		t.Fatalf("check of a damaged store: %v\n%s", err, out)
	}
}
