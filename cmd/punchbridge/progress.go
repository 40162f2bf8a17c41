package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress draws the progress of long work on stderr: a bar with a count
// and an ETA, redrawn in place, when stderr is a terminal; otherwise a plain
// line every few seconds, which reads well in a log file.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	label string
	now   func() time.Time
	start time.Time
	last  time.Time // when a plain line was last written
	every time.Duration
	drawn bool
}

func newProgress(w io.Writer, label string, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, tty: isTerminal(w), label: label, now: now, start: t, last: t, every: 5 * time.Second}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// Update records that done of total units are finished.
func (p *progress) Update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	eta := "?"
	if done > 0 && total >= done {
		elapsed := now.Sub(p.start)
		eta = (elapsed * time.Duration(total-done) / time.Duration(done)).Round(time.Second).String()
	}
	if p.tty {
		const width = 30
		filled := 0
		if total > 0 {
			filled = width * done / total
		}
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d  ETA %s ", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, eta)
		p.drawn = true
		return
	}
	if now.Sub(p.last) >= p.every || done == total {
		fmt.Fprintf(p.w, "%s: %d/%d done, ETA %s\n", p.label, done, total, eta)
		p.last = now
	}
}

// Done ends the bar's line on a terminal.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
