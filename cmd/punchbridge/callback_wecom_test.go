package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/wecom"
	"github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
	"github.com/punchbridge/punchbridge/mapping"
)

func runWeCom(t *testing.T, action string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }, now: time.Now}
	code := callbackWeCom(context.Background(), env, action, args)
	return code, out.String(), errb.String()
}

func TestCallbackWeComDecryptVector(t *testing.T) {
	base := []string{"--platform", "wecom", "--token", "QDG6eK", "--aes-key", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
		"--signature", "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "--timestamp", "1409659589", "--nonce", "263014780",
		"--echostr", "P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D"}
	code, out, errs := runWeCom(t, "decrypt", append(base, "--receive-id", "wx5823bf96d3bd56c7")...)
	if code != 0 || out != "1616140317555161061\n" {
		t.Fatalf("%d %q %q", code, out, errs)
	}
	code, _, errs = runWeCom(t, "decrypt", append(base, "--receive-id", "wxother")...)
	if code != 1 || !strings.Contains(errs, "receive id check failed") {
		t.Fatalf("%d %q", code, errs)
	}
	bad := append([]string(nil), base...)
	bad[9] = "1409659590"
	code, _, errs = runWeCom(t, "decrypt", append(bad, "--receive-id", "wx5823bf96d3bd56c7")...)
	if code != 1 || !strings.Contains(errs, "signature check failed") {
		t.Fatalf("%d %q", code, errs)
	}
	code, _, errs = runWeCom(t, "decrypt", append(base, "--receive-id", "wx5823bf96d3bd56c7", "--window", "10m")...)
	if code != 1 || !strings.Contains(errs, "timestamp check failed") {
		t.Fatalf("%d %q", code, errs)
	}
	code, _, errs = runWeCom(t, "decrypt", "--platform", "wecom", "--token", "x")
	if code != 2 {
		t.Fatalf("%d %q", code, errs)
	}
	code, _, errs = runWeCom(t, "decrypt", "--help")
	if code != 0 || !strings.Contains(errs, "Examples:") {
		t.Fatalf("%d %q", code, errs)
	}
	t.Log(errs)
}

func TestCallbackWeComSendAndBody(t *testing.T) {
	srv := wecomtest.NewServer(wecomtest.WithCompany(wecomtest.GenerateCompany(1, 5, time.Now().AddDate(0, 0, -10), 5)))
	defer srv.Close()
	key := "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	conn, err := wecom.NewConnector("wecom-hq", wecom.Config{CorpID: srv.CorpID(), CheckinSecret: wecomtest.DefaultCheckinSecret,
		ApprovalSecret: wecomtest.DefaultApprovalSecret, ContactsSecret: wecomtest.DefaultContactsSecret, BaseURL: srv.URL(),
		CallbackToken: "QDG6eK", CallbackAESKey: config.Secret(key)}, connectors.Deps{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(conn.Handler(func(context.Context, []mapping.Event) error { return nil }))
	defer ts.Close()
	code, out, errs := runWeCom(t, "send", "--platform", "wecom", "--url", ts.URL, "--token", "QDG6eK", "--aes-key", key, "--receive-id", srv.CorpID())
	if code != 0 || conn.Queued() != 1 {
		t.Fatalf("%d %q %q queued %d", code, out, errs, conn.Queued())
	}
	t.Log(out)
	code, _, errs = runWeCom(t, "send", "--platform", "wecom", "--url", ts.URL, "--token", "QDG6eK", "--aes-key", key, "--receive-id", "wwwrong")
	if code != 1 || !strings.Contains(errs, "URL verification failed") {
		t.Fatalf("%d %q", code, errs)
	}
	t.Log(errs)
	// --body: a POST body from the sender
	s, _ := wecomtest.NewSender(ts.URL, "QDG6eK", key, srv.CorpID())
	d, _ := s.Event([]byte("<xml><Event>x</Event></xml>"), wecomtest.Genuine)
	f := filepath.Join(t.TempDir(), "body.xml")
	os.WriteFile(f, d.Body, 0o600)
	code, out, errs = runWeCom(t, "decrypt", "--platform", "wecom", "--token", "QDG6eK", "--aes-key", key, "--receive-id", srv.CorpID(),
		"--signature", d.Query.Get("msg_signature"), "--timestamp", d.Query.Get("timestamp"), "--nonce", d.Query.Get("nonce"), "--body", f)
	if code != 0 || out != "<xml><Event>x</Event></xml>\n" {
		t.Fatalf("%d %q %q", code, out, errs)
	}
}
