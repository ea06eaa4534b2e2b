package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// serve starts s on a random loopback port.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.fs.Shutdown() })
	return "http://" + ln.Addr().String()
}

func call(t *testing.T, method, url, ctype, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, resp.Header, m
}

func TestPanicIsA500WithRequestIDAndLoggedCause(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s.Router().Handle(Route{Method: "GET", Path: "/boom"}, func(ctx *fasthttp.RequestCtx) {
		panic("secret internal state")
	})
	s.Router().Handle(Route{Method: "GET", Path: "/fail"}, func(ctx *fasthttp.RequestCtx) {
		WriteError(ctx, errors.New("disk on fire"))
	})
	url := serve(t, s)
	for _, path := range []string{"/boom", "/fail"} {
		code, _, m := call(t, "GET", url+path, "", "")
		if code != 500 || m["exception"] != ExcInternal {
			t.Fatalf("%s = %d %v", path, code, m)
		}
		details, _ := m["details"].(string)
		if !strings.HasPrefix(details, "internal error, request id ") || strings.Contains(details, "secret") || strings.Contains(details, "fire") {
			t.Fatalf("%s details = %q: want a request id and no internals", path, details)
		}
		id := strings.TrimPrefix(details, "internal error, request id ")
		if !strings.Contains(logs.String(), id) {
			t.Fatalf("the log does not carry request id %s:\n%s", id, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "secret internal state") || !strings.Contains(logs.String(), "disk on fire") {
		t.Fatalf("causes not logged:\n%s", logs.String())
	}
}

func TestErrorShapes(t *testing.T) {
	s := New(Options{MaxBodyBytes: 1 << 10})
	s.Router().Handle(Route{Method: "PUT", Path: "/things", JSONBody: true}, func(ctx *fasthttp.RequestCtx) {
		WriteError(ctx, Validation(map[string]string{"name": "must not be empty", "owner": "must not be null"}))
	})
	s.Router().Handle(Route{Method: "GET", Path: "/busy"}, func(ctx *fasthttp.RequestCtx) {
		WriteError(ctx, &Error{Status: 429, Exception: ExcTooManyRequests, Details: "slow down", RetryAfter: 2})
	})
	url := serve(t, s)

	code, _, m := call(t, "PUT", url+"/things", "application/x-www-form-urlencoded", "a=b")
	if code != 415 || m["exception"] != ExcMediaTypeUnsupported {
		t.Errorf("form body on a JSON route = %d %v", code, m)
	}
	code, _, m = call(t, "PUT", url+"/things", "application/json; charset=utf-8", `{}`)
	details, _ := m["details"].(map[string]any)
	if code != 400 || m["exception"] != ExcWrongParams || details["name"] != "must not be empty" || details["owner"] != "must not be null" {
		t.Errorf("validation = %d %v", code, m)
	}
	code, _, m = call(t, "PUT", url+"/things", "application/json", strings.Repeat(" ", 4<<10))
	if code != 413 || m["exception"] != ExcPayloadTooLarge {
		t.Errorf("oversized body = %d %v", code, m)
	}
	code, hdr, m := call(t, "GET", url+"/busy", "", "")
	if code != 429 || hdr.Get("Retry-After") != "2" || m["details"] != "slow down" {
		t.Errorf("429 = %d %v %v", code, hdr, m)
	}
	code, _, m = call(t, "GET", url+"/things", "", "")
	if code != 405 || m["exception"] != ExcMethodNotSupported {
		t.Errorf("wrong method = %d %v", code, m)
	}
}

func TestProtectedRouteWithoutAuthenticatorIs401(t *testing.T) {
	s := New(Options{})
	s.Router().Handle(Route{Method: "GET", Path: "/me", Access: Read}, func(ctx *fasthttp.RequestCtx) {
		t.Error("handler ran without credentials")
	})
	code, _, m := call(t, "GET", serve(t, s)+"/me", "", "")
	if code != 401 || m["exception"] != ExcUnauthorized {
		t.Fatalf("= %d %v", code, m)
	}
}

func TestDuplicateRouteIsABug(t *testing.T) {
	s := New(Options{})
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "registered twice") {
			t.Fatalf("recover() = %v", v)
		}
	}()
	s.Router().Handle(Route{Method: "GET", Path: "/about"}, func(*fasthttp.RequestCtx) {})
}

func TestAppendJSONString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := string(AppendJSONString(nil, in)); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(want), &back); err != nil {
			t.Errorf("%s is not JSON: %v", want, err)
		}
	}
	f("", `""`)
	f("plain", `"plain"`)
	f(`a"b\c`, `"a\"b\\c"`)
	f("l1\nl2\t\r", `"l1\nl2\t\r"`)
	f("\x01\x1f", `"\u0001\u001f"`)
	f("°C ü 日本", `"°C ü 日本"`)
	f("bad\xffutf8", `"bad\ufffdutf8"`)
}
