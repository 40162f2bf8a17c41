package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	p := newProgress(&buf, "pull dingtalk-hq", func() time.Time { return now })
	for i := 1; i <= 100; i++ {
		now = now.Add(time.Second)
		p.Update(i, 100)
	}
	p.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// One line every 5 s over 100 s; the last one also marks the end.
	if len(lines) != 20 {
		t.Fatalf("%d lines, want 20:\n%s", len(lines), buf.String())
	}
	if lines[0] != "pull dingtalk-hq: 5/100 done, ETA 1m35s" || lines[19] != "pull dingtalk-hq: 100/100 done, ETA 0s" {
		t.Fatalf("lines %q … %q", lines[0], lines[19])
	}
	buf.Reset()
	p.Update(100, 100) // the end is always written, even within 5 s
	if !strings.Contains(buf.String(), "100/100") {
		t.Fatalf("the end was not written: %q", buf.String())
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	p := newProgress(&buf, "pull", func() time.Time { return now })
	p.tty = true
	now = now.Add(10 * time.Second)
	p.Update(25, 100)
	p.Done()
	want := "\rpull [=======                       ] 25/100  ETA 30s \n"
	if buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}
