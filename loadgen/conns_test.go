package loadgen

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestConns sends through Conns to handlers that answer as a server may:
// with a length, in chunks, asking to close the connection, slowly. Each
// reply is read whole, and a connection is reused only when it may be.
func TestConns(t *testing.T) {
	var conns atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "yes" || r.ContentLength != 5 {
			http.Error(w, "header or length lost", http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part one, "))
		w.(http.Flusher).Flush()
		w.Write([]byte("part two"))
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Write([]byte("bye"))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("late"))
	})
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("root " + r.URL.RawQuery))
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	p, err := NewConns(srv.URL, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req := func(path string) Sealed {
		return Sealed{Method: http.MethodPost, URL: srv.URL + path + "?a=1", Body: []byte("hello"), Header: http.Header{"X-Test": {"yes"}}}
	}
	tests := []struct {
		path      string
		timeout   time.Duration
		status    int
		body      string
		err       bool
		wantConns int32 // connections opened so far
	}{
		{"/plain", time.Second, 200, `{"ok":true}`, false, 1},
		{"/plain", time.Second, 200, `{"ok":true}`, false, 1}, // the same connection
		{"", time.Second, 200, "root a=1", false, 1},          // the base URL has no path
		{"/chunked", time.Second, 200, "part one, part two", false, 1},
		{"/fail", time.Second, 503, "no\n", false, 1},
		{"/close", time.Second, 200, "bye", false, 1},
		{"/plain", time.Second, 200, `{"ok":true}`, false, 2}, // a new one after the close
		{"/slow", 50 * time.Millisecond, 0, "", true, 2},
		{"/plain", time.Second, 200, `{"ok":true}`, false, 3}, // not the timed-out one
	}
	for i, tc := range tests {
		status, body, err := p.Send(context.Background(), req(tc.path), tc.timeout)
		if (err != nil) != tc.err || status != tc.status || string(body) != tc.body {
			t.Fatalf("%d %s: %d %q %v; want %d %q, error %v", i, tc.path, status, body, err, tc.status, tc.body, tc.err)
		}
		if tc.err && !isTimeout(err) {
			t.Errorf("%d %s: error %v is not a timeout", i, tc.path, err)
		}
		// The server counts a connection when it accepts it.
		deadline := time.Now().Add(time.Second)
		for conns.Load() != tc.wantConns && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := conns.Load(); got != tc.wantConns {
			t.Errorf("%d %s: %d connections opened, want %d", i, tc.path, got, tc.wantConns)
		}
	}
}

func TestConnsRefusesOtherURLs(t *testing.T) {
	for _, base := range []string{"https://example.com/hook", "http://", "::"} {
		if _, err := NewConns(base, 1); err == nil {
			t.Errorf("NewConns(%q) succeeded", base)
		}
	}
	p, err := NewConns("http://127.0.0.1:1/hooks", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Send(context.Background(), Sealed{Method: http.MethodPost, URL: "http://127.0.0.2:1/hooks"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "is not on http://127.0.0.1:1") {
		t.Errorf("Send to another host = %v, want an error naming the base", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := p.Send(ctx, Sealed{Method: http.MethodPost, URL: "http://127.0.0.1:1/hooks"}, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with an ended context = %v, want context.Canceled", err)
	}
}

// TestReadReply reads replies as a server may write them, each followed on
// the connection by a second reply that must be left intact when the first
// keeps the connection open.
func TestReadReply(t *testing.T) {
	const next = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext"
	tests := []struct {
		name    string
		in      string
		status  int
		body    string
		keep    bool
		wantErr string
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\nhello", 200, "hello", true, ""},
		{"chunked with a trailer", "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n", 503, "abcde", true, ""},
		{"asked to close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye", 200, "bye", false, ""},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", false, ""},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", true, ""},
		{"no length reads to the end", "HTTP/1.1 200 OK\r\n\r\nall of it", 200, "all of it" + next, false, ""},
		{"malformed status line", "HTTP/1.1 OK\r\n\r\n", 0, "", false, "malformed status line"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, "", false, "malformed status line"},
		{"malformed header", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 0, "", false, "malformed header line"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, "", false, "malformed Content-Length"},
		{"too long", "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", 0, "", false, "more than the"},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, "", false, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.name != "cut short" {
				in += next
			}
			br := bufio.NewReader(strings.NewReader(in))
			status, body, keep, err := readReply(br)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || status != tt.status || string(body) != tt.body || keep != tt.keep {
				t.Fatalf("got %d %q keep=%v err=%v, want %d %q keep=%v", status, body, keep, err, tt.status, tt.body, tt.keep)
			}
			if keep {
				status, body, _, err := readReply(br)
				if err != nil || status != 200 || string(body) != "next" {
					t.Fatalf("the next reply: %d %q %v", status, body, err)
				}
			}
		})
	}
}
