package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDebugEndpoint serves the profiles on a free port and reads them as
// `go tool pprof` and `go tool trace` do.
func TestDebugEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.SetMutexProfileFraction(-1)
	stop := startDebug(ln, slog.New(slog.DiscardHandler))
	if got := runtime.SetMutexProfileFraction(-1); got != mutexProfileFraction {
		t.Errorf("mutex profile fraction while serving: %d, want %d", got, mutexProfileFraction)
	}
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		method, path string
		status       int
		body         func([]byte) bool // nil: not checked
		what         string
	}{
		{"GET", "/debug/pprof/", 200, contains("goroutine"), "the index listing the profiles"},
		{"GET", "/debug/pprof/heap?debug=1", 200, contains("heap profile"), "a heap profile as text"},
		{"GET", "/debug/pprof/goroutine?debug=1", 200, contains("goroutine profile"), "the goroutines"},
		{"GET", "/debug/pprof/mutex?debug=1", 200, contains("sampling period=100"), "the contended mutexes, sampled"},
		{"GET", "/debug/pprof/profile?seconds=1", 200, gzipped, "a CPU profile, gzipped protobuf"},
		{"GET", "/debug/pprof/trace?seconds=0.2", 200, func(b []byte) bool { return bytes.HasPrefix(b, []byte("go 1.")) }, "an execution trace"},
		{"POST", "/debug/pprof/profile", 405, nil, "a CPU profile asked for with POST"},
		{"GET", "/metrics", 404, nil, "anything outside /debug/pprof/"},
		{"GET", "/hooks/dingtalk/x", 404, nil, "a webhook route"},
	} {
		req, err := http.NewRequest(tc.method, base+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.method, tc.path, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: read: %v", tc.method, tc.path, err)
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s (%s): %d, want %d", tc.method, tc.path, tc.what, resp.StatusCode, tc.status)
			continue
		}
		if tc.body != nil && !tc.body(body) {
			t.Errorf("%s %s: not %s: %.80q", tc.method, tc.path, tc.what, body)
		}
	}
	stop()
	if _, err := client.Get(base + "/debug/pprof/"); err == nil {
		t.Error("the debug endpoint still answers after stop")
	}
	if got := runtime.SetMutexProfileFraction(-1); got != before {
		t.Errorf("mutex profile fraction after stop: %d, want %d as before", got, before)
	}
}

func contains(s string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(s)) }
}

func gzipped(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

// TestServerCommandDebugListen checks where the profiles are served from:
// the config's server.debug_listen, --debug-listen over it, or nowhere.
func TestServerCommandDebugListen(t *testing.T) {
	dir := t.TempDir()
	write := func(name, server string) string {
		path := filepath.Join(dir, name)
		cfg := "rules:\n  timezone: UTC\n  shifts: {day: {start: \"09:00\", end: \"18:00\"}}\n  assign: {default: day}\n" + server
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := write("plain.yaml", "server: {listen: '127.0.0.1:0'}\n")
	withDebug := write("debug.yaml", "server: {listen: '127.0.0.1:0', debug_listen: '127.0.0.1:0'}\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		debug     bool
		errSubstr string
	}{
		{"none", []string{"--config", plain}, exitOK, false, ""},
		{"from the config", []string{"--config", withDebug}, exitOK, true, ""},
		{"from the flag", []string{"--config", plain, "--debug-listen", "127.0.0.1:0"}, exitOK, true, ""},
		{"flag without a port", []string{"--config", plain, "--debug-listen", "6060"}, exitUsage, false,
			`--debug-listen "6060": want host:port, such as 127.0.0.1:6060`},
		{"port taken", []string{"--config", plain, "--debug-listen", busy.Addr().String()}, exitFailure, false,
			"listen for profiles on " + busy.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			env := &cmdEnv{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }, now: time.Now}
			cfg, ln, debug, code := serverCommand(env, "serve", serveUsage, tc.args)
			if ln != nil {
				defer ln.Close()
			}
			if debug != nil {
				defer debug.Close()
			}
			if code != tc.code || (cfg != nil) != (code == exitOK) {
				t.Fatalf("exit %d (config %v), want %d; stderr: %s", code, cfg != nil, tc.code, stderr.String())
			}
			if (debug != nil) != tc.debug {
				t.Errorf("debug listener %v, want %v", debug != nil, tc.debug)
			}
			if tc.errSubstr != "" && !strings.Contains(stderr.String(), tc.errSubstr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.errSubstr)
			}
		})
	}
}
