package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/hrhttp/hrtest"
)

// TestServe starts serve on a free port against the fake platforms, checks
// its health endpoints and webhook routing, and stops it.
func TestServe(t *testing.T) {
	from, days, _ := demoCalendar(1)
	dt := dingtalktest.NewServer(dingtalktest.WithCompany(dingtalktest.GenerateCompany(1, 5, from, days)))
	defer dt.Close()
	hr := hrtest.NewServer(hrtest.WithToken("tok"))
	defer hr.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "punchbridge.yaml")
	if err := os.WriteFile(path, []byte(demoConfig(dt.URL(), dt.AppKey(), dt.CorpID(), hr.URL(), days)), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"DEMO_DINGTALK_APP_SECRET": dt.AppSecret(), "DEMO_HR_TOKEN": "tok"}
	cfg, err := config.Load(path, func(k string) string { return secrets[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, slog.New(slog.DiscardHandler), ln) }()

	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/healthz", 200},
		{"/readyz", 200},
		{"/hooks/dingtalk/no-such-connector", 404},
	} {
		resp, err := client.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
	if dt.Calls("topapi/v2/user/list") == 0 {
		t.Error("serve did not load the directory at start-up")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after a clean stop", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10 s of its context ending")
	}
}
