package api

import (
	"runtime"
	"testing"
	"time"
)

// TestLoginHashLimiter: at most 2 × cores password hashes at once; the next login is refused
// (429 in the handler) until one finishes.
func TestLoginHashLimiter(t *testing.T) {
	l := newLoginLimiter(time.Now)
	n := 2 * runtime.NumCPU()
	for i := 0; i < n; i++ {
		if !l.acquire() {
			t.Fatalf("slot %d of %d refused", i+1, n)
		}
	}
	if l.acquire() {
		t.Fatalf("a hash beyond 2 × cores (%d) was allowed", n)
	}
	l.release()
	if !l.acquire() {
		t.Fatal("a freed slot was not reusable")
	}
}

// TestFailedLoginWindow: 10 failures per (address, name) within a minute block that pair, for
// the rest of the minute only.
func TestFailedLoginWindow(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLoginLimiter(func() time.Time { return now })
	for i := 0; i < 10; i++ {
		if w := l.blocked("10.0.0.1", "Bob"); w != 0 {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("10.0.0.1", "bob")
	}
	if w := l.blocked("10.0.0.1", "BOB"); w <= 0 || w > 61 {
		t.Fatalf("after 10 failures: wait %d s, want 1..61 (names are case-insensitive)", w)
	}
	if w := l.blocked("10.0.0.2", "bob"); w != 0 {
		t.Fatalf("another address is blocked too")
	}
	now = now.Add(61 * time.Second)
	if w := l.blocked("10.0.0.1", "bob"); w != 0 {
		t.Fatalf("still blocked after the window: %d", w)
	}
}
