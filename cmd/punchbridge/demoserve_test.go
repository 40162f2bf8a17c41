package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemoServe: demo --serve prints a URL and a token; the page shows the
// demo company, the admin API answers with the token (and refuses
// without), and an absent day's explanation says why it is absent.
func TestDemoServe(t *testing.T) {
	var out, errb lockedBuffer
	_, _, asOf := demoCalendar(1)
	env := &cmdEnv{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(string) string { return "" }, now: func() time.Time { return asOf }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, env, []string{"demo", "--employees", "20", "--days", "2", "--serve", "--listen", "127.0.0.1:0"})
	}()

	re := regexp.MustCompile(`status page  (http://\S+)\n  log in with  (\S+)`)
	var url, token string
	for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url, token = m[1], m[2]
		}
		select {
		case c := <-done:
			t.Fatalf("demo --serve exited %d before serving:\n%s\n%s", c, out.String(), errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no URL printed:\n%s\n%s", out.String(), errb.String())
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path, bearer string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(url, "/")+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/", ""); code != 200 || !strings.Contains(strings.ToLower(body), "token") {
		t.Fatalf("status page: %d\n%.300s", code, body)
	}
	if code, _ := get("/api/v1/days?from=2026-11-19&to=2026-11-20", ""); code != 401 {
		t.Fatalf("days without a token: %d, want 401", code)
	}
	code, body := get("/api/v1/days?from=2026-11-19&to=2026-11-20", token)
	if code != 200 {
		t.Fatalf("days: %d %.300s", code, body)
	}
	var days []struct {
		EmployeeID string `json:"employee_id"`
		Date       string `json:"date"`
		Status     string `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &days); err != nil {
		var wrapped struct {
			Days []struct {
				EmployeeID string `json:"employee_id"`
				Date       string `json:"date"`
				Status     string `json:"status"`
			} `json:"days"`
		}
		if err := json.Unmarshal([]byte(body), &wrapped); err != nil {
			t.Fatalf("days answer: %v\n%.300s", err, body)
		}
		for _, d := range wrapped.Days {
			days = append(days, d)
		}
	}
	if len(days) != 19*2 {
		t.Fatalf("%d day records served, want 19 mapped employees × 2 days", len(days))
	}
	absent := ""
	for _, d := range days {
		if d.Status == "absent" {
			absent = d.EmployeeID + "/" + d.Date
			break
		}
	}
	if absent == "" {
		t.Skip("the generated company has no absent day to explain")
	}
	code, body = get("/api/v1/days/"+absent+"/explain", token)
	if code != 200 || !strings.Contains(body, "absent") {
		t.Fatalf("explain %s: %d %.500s", absent, code, body)
	}
	cancel()
	select {
	case c := <-done:
		if c != exitOK {
			t.Fatalf("demo --serve exited %d:\n%s", c, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo --serve did not stop")
	}
}
