package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/punchbridge/punchbridge/internal/testenv"
)

// This file drives a headless Chromium through the DevTools protocol over
// a websocket: just the commands a user's actions need (navigate, click,
// type, read the page, accept a confirm dialog, take a screenshot).

// chromiumBinaries are the names Chromium goes by on the PATH.
var chromiumBinaries = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findChromium returns the browser binary, or skips the test (fails it
// when PUNCHBRIDGE_REQUIRE_SERVICES is set).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumBinaries {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	required, _ := strconv.ParseBool(os.Getenv(testenv.RequireVar))
	if required {
		t.Fatalf("%s=1 but no Chromium is installed (looked for %s); apt-get install chromium", testenv.RequireVar, strings.Join(chromiumBinaries, ", "))
	}
	t.Skipf("needs a headless Chromium (looked for %s); apt-get install chromium", strings.Join(chromiumBinaries, ", "))
	return ""
}

// cdpMessage is a DevTools protocol message: a command, its reply, or an
// event.
type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// page is one browser tab.
type page struct {
	t       *testing.T
	ctx     context.Context
	conn    *websocket.Conn
	session string

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	replies map[int64]chan cdpMessage
	waiters map[string][]chan json.RawMessage
	dialogs []string // messages of the dialogs accepted
}

// launchChromium starts a headless Chromium with a fresh profile, opens a
// tab and returns it; the browser is stopped when the test ends.
func launchChromium(t *testing.T, ctx context.Context) *page {
	t.Helper()
	bin := findChromium(t)
	// The profile is removed by hand, after the whole browser is gone:
	// Chromium's helper processes write to it until they die, which races
	// t.TempDir's cleanup.
	profile, err := os.MkdirTemp("", "punchbridge-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--disable-extensions", "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
		"--user-data-dir="+profile, "--remote-debugging-port=0", "--window-size=1366,900", "about:blank")
	// Its own process group, so that stopping it stops the renderer and
	// GPU helpers too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for i := 0; i < 50; i++ {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("browser profile %s left behind", profile)
	})
	wsURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				wsURL <- strings.TrimSpace(u)
			}
		}
	}()
	var u string
	select {
	case u = <-wsURL:
	case <-ctx.Done():
		t.Fatalf("chromium did not announce its DevTools endpoint: %v", ctx.Err())
	}
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
	if err != nil {
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	p := &page{t: t, ctx: ctx, conn: conn, replies: map[int64]chan cdpMessage{}, waiters: map[string][]chan json.RawMessage{}}
	go p.read()

	var target struct {
		TargetID string `json:"targetId"`
	}
	p.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	p.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p.session = attached.SessionID
	p.call("Page.enable", nil, nil)
	p.call("Runtime.enable", nil, nil)
	return p
}

// read delivers replies and events until the connection closes. A
// JavaScript dialog (the replay button's confirm) is accepted, as a user
// clicking OK would.
func (p *page) read() {
	for {
		var m cdpMessage
		if err := p.conn.ReadJSON(&m); err != nil {
			return
		}
		p.mu.Lock()
		if m.ID != 0 {
			if ch, ok := p.replies[m.ID]; ok {
				ch <- m
				delete(p.replies, m.ID)
			}
			p.mu.Unlock()
			continue
		}
		for _, ch := range p.waiters[m.Method] {
			ch <- m.Params
		}
		delete(p.waiters, m.Method)
		if m.Method == "Page.javascriptDialogOpening" {
			var d struct {
				Message string `json:"message"`
			}
			json.Unmarshal(m.Params, &d)
			p.dialogs = append(p.dialogs, d.Message)
			go p.send("Page.handleJavaScriptDialog", map[string]any{"accept": true})
		}
		p.mu.Unlock()
	}
}

// send issues a command and returns its reply.
func (p *page) send(method string, params any) (json.RawMessage, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	if params == nil {
		raw = nil
	}
	p.mu.Lock()
	p.nextID++
	id := p.nextID
	ch := make(chan cdpMessage, 1)
	p.replies[id] = ch
	p.mu.Unlock()
	msg := cdpMessage{ID: id, Method: method, Params: raw}
	if !strings.HasPrefix(method, "Target.") {
		msg.SessionID = p.session
	}
	p.writeMu.Lock()
	err = p.conn.WriteJSON(msg)
	p.writeMu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-p.ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, p.ctx.Err())
	}
}

// call is send that fails the test on error and decodes the result.
func (p *page) call(method string, params, result any) {
	p.t.Helper()
	raw, err := p.send(method, params)
	if err != nil {
		p.t.Fatal(err)
	}
	if result != nil {
		if err := json.Unmarshal(raw, result); err != nil {
			p.t.Fatalf("%s: decode %s: %v", method, raw, err)
		}
	}
}

// expect returns a channel that receives the next event of method; call
// it before the action that causes the event.
func (p *page) expect(method string) <-chan json.RawMessage {
	ch := make(chan json.RawMessage, 1)
	p.mu.Lock()
	p.waiters[method] = append(p.waiters[method], ch)
	p.mu.Unlock()
	return ch
}

func (p *page) await(what string, ch <-chan json.RawMessage) {
	p.t.Helper()
	select {
	case <-ch:
	case <-p.ctx.Done():
		p.t.Fatalf("waiting for %s: %v", what, p.ctx.Err())
	}
}

// navigate opens url and waits until the page has loaded.
func (p *page) navigate(url string) {
	p.t.Helper()
	loaded := p.expect("Page.loadEventFired")
	p.call("Page.navigate", map[string]any{"url": url}, nil)
	p.await("load of "+url, loaded)
}

// eval runs a JavaScript expression in the page and decodes its value.
func (p *page) eval(expr string, result any) {
	p.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r)
	if r.ExceptionDetails != nil {
		p.t.Fatalf("evaluate %s: %s", expr, r.ExceptionDetails.Text)
	}
	if result != nil {
		if err := json.Unmarshal(r.Result.Value, result); err != nil {
			p.t.Fatalf("evaluate %s: decode %s: %v", expr, r.Result.Value, err)
		}
	}
}

// text returns the text of the first element matching selector, "" when
// there is none.
func (p *page) text(selector string) string {
	p.t.Helper()
	var s string
	p.eval(fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, selector), &s)
	return s
}

func (p *page) path() string {
	p.t.Helper()
	var s string
	p.eval(`location.pathname`, &s)
	return s
}

// click scrolls the element into view and clicks its centre with the
// mouse, as a user would.
func (p *page) click(selector string) {
	p.t.Helper()
	var box struct {
		X, Y  float64
		Found bool
	}
	p.eval(fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return {found: false, x: 0, y: 0};
		el.scrollIntoView({block: "center", inline: "center"});
		const r = el.getBoundingClientRect();
		return {found: true, x: r.left + r.width / 2, y: r.top + r.height / 2};
	})()`, selector), &box)
	if !box.Found {
		p.t.Fatalf("no element %s on %s", selector, p.path())
	}
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p.call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": box.X, "y": box.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// clickAndLoad clicks an element that navigates and waits for the new
// page.
func (p *page) clickAndLoad(selector string) {
	p.t.Helper()
	loaded := p.expect("Page.loadEventFired")
	p.click(selector)
	p.await("the page after clicking "+selector, loaded)
}

// typeInto focuses the field by clicking it and types text.
func (p *page) typeInto(selector, text string) {
	p.t.Helper()
	p.click(selector)
	p.call("Input.insertText", map[string]any{"text": text}, nil)
}

// screenshot writes the whole page as a PNG file.
func (p *page) screenshot(path string) {
	p.t.Helper()
	var metrics struct {
		CSSContentSize struct {
			Width, Height float64
		} `json:"cssContentSize"`
	}
	p.call("Page.getLayoutMetrics", nil, &metrics)
	var shot struct {
		Data string `json:"data"`
	}
	p.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": metrics.CSSContentSize.Width, "height": metrics.CSSContentSize.Height, "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) acceptedDialogs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}
