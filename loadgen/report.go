package loadgen

import (
	"fmt"
	"io"
	"sort"
	"time"
)

// WriteText prints r as the bench report's lines.
func (r Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "  sent       %d requests, %d events in %s\n", r.Requests, r.Events, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  ok         %d requests, %d events: %.0f requests/s, %.0f events/s\n", r.OK, r.OKEvents, r.RequestsPerSec, r.EventsPerSec)
	fmt.Fprintf(w, "  latency    p50 %s  p90 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max))
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "  errors     none")
		return
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for i, k := range kinds {
		label := "errors"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-10s %d %s (first: %s)\n", label, r.Errors[k], k, r.FirstErrors[k])
	}
}

// WriteText prints c as the bench report's check line.
func (c Check) WriteText(w io.Writer) {
	if c.OK() {
		fmt.Fprintf(w, "  check      ok: each of the %d events is stored exactly once\n", c.Expected)
		return
	}
	fmt.Fprintf(w, "  check      FAILED: %d of %d events stored exactly once, %d missing, %d stored more than once\n",
		c.Stored, c.Expected, c.MissingCount, c.RepeatedCount)
	for _, id := range c.Missing {
		fmt.Fprintf(w, "             missing  %s\n", id)
	}
	for _, id := range c.Repeated {
		fmt.Fprintf(w, "             repeated %s\n", id)
	}
}

// ms prints d in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}
