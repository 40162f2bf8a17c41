package explain

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Text writes the report for a reader: the watermark and the events
// loaded, then per shift the explanation, how it compares with what is
// stored, and every stored version with the fields that changed.
func (r Report) Text(w io.Writer) error {
	var b strings.Builder
	wm := "none"
	if r.Watermark != nil {
		wm = r.Watermark.Format(time.DateTime)
	}
	fmt.Fprintf(&b, "Explain %s on %s\n  watermark %s (%s)\n  %d events loaded from %s to %s\n",
		r.EmployeeID, r.Date, wm, r.WatermarkNote, r.EventsLoaded, r.EventsFrom.Format(time.DateTime), r.EventsTo.Format(time.DateTime))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, s := range r.Shifts {
		if _, err := io.WriteString(w, "\n"); err != nil {
			return err
		}
		if err := s.Explanation.Text(w); err != nil {
			return err
		}
		if err := s.historyText(w); err != nil {
			return err
		}
	}
	return nil
}

func (s Shift) historyText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\nStored versions\n  %s\n", s.Stored)
	for _, v := range s.History {
		fmt.Fprintf(&b, "  v%d %s", v.Version, v.Status)
		if v.Version > 1 || len(v.Changes) > 0 {
			parts := make([]string, len(v.Changes))
			for i, c := range v.Changes {
				parts[i] = c.Field + " " + c.From + " → " + c.To
			}
			if len(parts) == 0 {
				parts = []string{"no field changed"}
			}
			fmt.Fprintf(&b, ": %s", strings.Join(parts, "; "))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
