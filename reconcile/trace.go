package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// trace records, for Explain, the decisions the engine takes while it
// computes records: what collect set aside, each punch's part in the
// pairing, and the inputs and outcome of every rule. Employee passes a nil
// *trace, and every hook sits behind a nil check, so the hot path pays one
// comparison per decision and Explain reads the very decisions that made
// the record.
type trace struct {
	e *Engine
	d day // the date explained

	notes     map[*punch]punchNote
	pendingAt map[*mapping.Event]int32 // occurrence each pending make-up was reported on
	dropped   []dropped                // events collect set aside
	approvals []*mapping.Event         // the latest revision of every approval

	rules []RuleDecision // of the record being computed
	ends  [2]*punch      // its first in and last out
}

// punchNote is what record and pair decided about one punch.
type punchNote struct {
	ignored bool   // not counted (strict mode, no direction)
	note    string // its part in the pairing
}

// dropped is an event collect did not turn into a punch, with the reason.
type dropped struct {
	ev     *mapping.Event
	reason string
}

// statusWhy says which branch of the status decision was taken.
type statusWhy uint8

const (
	whyOffDay statusWhy = iota
	whyWorkedOffDay
	whyOnLeave
	whyNoPunches
	whyAbsentBelow
	whyHalfDayBelow
	whyPresent
)

// facts are the inputs and outcome of one record's rules, as record used
// them. Passed by value so that nothing of record's frame escapes.
type facts struct {
	o        *occ
	s        *shiftDef
	pr       pairing
	counted  int
	off      mapping.DayStatus // holiday or rest_day, else ""
	lv       coverage          // zero on an off day
	why      statusWhy
	otFrom   int64 // overtime counts at or after this instant
	r        mapping.DayRecord
	overtime []interval
}

func newTrace(e *Engine, d day) *trace {
	return &trace{e: e, d: d, notes: map[*punch]punchNote{}, pendingAt: map[*mapping.Event]int32{}}
}

func (t *trace) drop(ev *mapping.Event, reason string) {
	t.dropped = append(t.dropped, dropped{ev: ev, reason: reason})
}

// punch records a punch that record left out.
func (t *trace) punch(p *punch, counted bool, reason string) {
	t.notes[p] = punchNote{ignored: !counted, note: reason}
}

func (t *trace) note(p *punch, note string) { t.notes[p] = punchNote{note: note} }

// alternate notes the parts of the punches under directions: alternate,
// where position alone decides.
func (t *trace) alternate(ps []*punch, everyPair bool) {
	n := len(ps)
	for i, p := range ps {
		var note string
		switch {
		case !everyPair && i > 0 && i < n-1:
			note = "between first in and last out: changes nothing (working_hours: first_last)"
		case !everyPair:
		case i%2 == 0 && i+1 < n:
			note = fmt.Sprintf("opens pair %d", i/2+1)
		case i%2 == 1:
			note = fmt.Sprintf("closes pair %d", i/2+1)
		default:
			note = "trailing punch without a partner: adds no time (working_hours: every_pair)"
		}
		if (i == 0 && p.dir != mapping.DirIn) || (i == n-1 && i > 0 && p.dir != mapping.DirOut) {
			note = strings.TrimPrefix(note+"; its own direction "+string(p.dir)+" is ignored (directions: alternate)", "; ")
		}
		t.note(p, note)
	}
}

// strictFirstLast notes the punches that first_in and last_out did not pick.
func (t *trace) strictFirstLast(ps []*punch, firstIn, lastOut *punch) {
	for _, p := range ps {
		switch {
		case p == firstIn || p == lastOut:
		case p.dir == mapping.DirIn:
			t.note(p, "an in after the first in: changes nothing (working_hours: first_last)")
		default:
			t.note(p, "an out before the last out: changes nothing (working_hours: first_last)")
		}
	}
}

func (t *trace) opens(p *punch, k int)  { t.note(p, fmt.Sprintf("opens pair %d", k)) }
func (t *trace) closes(p *punch, k int) { t.note(p, fmt.Sprintf("closes pair %d", k)) }

func (t *trace) unpaired(p *punch, open bool) {
	if open {
		t.note(p, "an in while a pair is open: ignored, the earlier in is kept (every_pair)")
		return
	}
	t.note(p, "an out with no open in: ignored (every_pair)")
}

func (t *trace) leftOpen(p *punch, k int) {
	t.note(p, fmt.Sprintf("opens pair %d, which no out closes: adds no time", k))
}

// reason composes a counted punch's reason from its part as first in or
// last out and its note.
func (t *trace) reason(p *punch, ends [2]*punch) (counted bool, reason string) {
	n := t.notes[p]
	if n.ignored {
		return false, n.note
	}
	var parts []string
	if p.makeup {
		parts = append(parts, "make-up approved")
	}
	switch {
	case p == ends[0]:
		parts = append(parts, "counted as first in")
	case p == ends[1]:
		parts = append(parts, "counted as last out")
	default:
		parts = append(parts, "counted")
	}
	if n.note != "" {
		parts = append(parts, n.note)
	}
	return true, strings.Join(parts, "; ")
}

// Formatting of the numbers compared.

// clock is an instant as 15:04:05 when it falls on the date explained, else
// with its date.
func (t *trace) clock(sec int64) string {
	tm := time.Unix(sec, 0).In(t.e.loc)
	if t.e.dayOfInstant(sec) == t.d {
		return tm.Format(time.TimeOnly)
	}
	return tm.Format(time.DateTime)
}

// hm is a scheduled instant as 15:04, with its date when it is not on the
// date explained.
func (t *trace) hm(sec int64) string {
	tm := time.Unix(sec, 0).In(t.e.loc)
	if t.e.dayOfInstant(sec) == t.d {
		return tm.Format("15:04")
	}
	return tm.Format("2006-01-02 15:04")
}

// dur is a rules duration as written in rules files: 10m, 2h, 1h30m, 0s.
func dur(sec int64) string {
	d := time.Duration(sec) * time.Second
	switch {
	case sec == 0:
		return "0s"
	case sec%3600 == 0:
		return fmt.Sprintf("%dh", sec/3600)
	case sec%60 == 0 && sec < 3600:
		return fmt.Sprintf("%dm", sec/60)
	case sec%60 == 0:
		return strings.TrimSuffix(d.String(), "0s")
	}
	return d.String()
}

// mins is a threshold compared against whole minutes, in minutes.
func mins(sec int64) string {
	if sec%60 == 0 {
		return fmt.Sprintf("%dm", sec/60)
	}
	return dur(sec)
}
