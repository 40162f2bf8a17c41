package reconcile

import (
	"cmp"
	"slices"
	"strings"

	"github.com/punchbridge/punchbridge/mapping"
)

// punch is a punch or an approved make-up on the hot path. Instants are
// whole Unix seconds: sub-second parts are dropped before any comparison.
type punch struct {
	sec    int64
	recv   int64 // received_at of the first copy of this revision
	ev     *mapping.Event
	dir    mapping.Direction
	makeup bool
	dupOf  *mapping.Event // set when this punch repeats dupOf's second and direction
	home   int32          // index of its occurrence: the containing window, else the nearest
	inWin  bool           // a window contains it
}

// interval is an approved approval's [s, e) in Unix seconds.
type interval struct {
	s, e int64
	id   string
}

// collected is one employee's events, resolved to the latest revisions.
type collected struct {
	punches  []punch          // sorted by (sec, dir, real before make-up, id)
	pending  []*mapping.Event // pending make-ups
	leave    []interval       // approved leave, sorted by s
	overtime []interval       // approved overtime, sorted by s
}

// statusRank orders states that share an instant and arrival: a decision
// beats a pending request, and revocation is the last word.
func statusRank(s mapping.Status) int {
	switch s {
	case mapping.StatusApproved:
		return 1
	case mapping.StatusRejected:
		return 2
	case mapping.StatusRevoked:
		return 3
	}
	return 0
}

// collect gathers employee emp's punches, make-ups and approvals from
// events, keeping the latest revision of each (see latest). tr, when not
// nil, records what it sets aside and why, and every approval it resolves.
func (e *Engine) collect(emp string, events []mapping.Event, tr *trace) collected {
	var c collected
	var approvals []*mapping.Event
	cands := make([]*mapping.Event, 0, len(events))
	for i := range events {
		ev := &events[i]
		if ev.EmployeeID != emp {
			continue
		}
		switch {
		case ev.Kind == mapping.KindPunch && ev.Punch != nil:
			// A not_signed record is the platform's placeholder for a
			// punch that did not happen, not a punch.
			if ev.Punch.PlatformResult == "not_signed" {
				if tr != nil {
					tr.drop(ev, "platform placeholder for a punch that did not happen (not_signed): not a punch")
				}
				continue
			}
			cands = append(cands, ev)
		case ev.Kind == mapping.KindMakeup && ev.Makeup != nil:
			cands = append(cands, ev)
		case ev.Kind == mapping.KindApproval && ev.Approval != nil:
			approvals = append(approvals, ev)
		}
	}

	// Punches and make-ups: one revision per event id.
	slices.SortFunc(cands, func(a, b *mapping.Event) int { return strings.Compare(a.ID, b.ID) })
	c.punches = make([]punch, 0, len(cands))
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].ID == cands[i].ID {
			j++
		}
		ev, recv := cands[i], cands[i].ReceivedAt.Unix()
		if j-i > 1 {
			ev, recv = latest(cands[i:j], false)
		}
		i = j
		recv = arrival(ev, recv)
		if ev.Kind == mapping.KindPunch {
			c.punches = append(c.punches, punch{sec: ev.Time.Unix(), recv: recv, ev: ev, dir: ev.Punch.Direction})
			continue
		}
		switch ev.Makeup.Status {
		case mapping.StatusApproved:
			c.punches = append(c.punches, punch{sec: ev.Time.Unix(), recv: recv, ev: ev, dir: ev.Makeup.Direction, makeup: true})
		case mapping.StatusPending:
			c.pending = append(c.pending, ev)
		default:
			if tr != nil {
				tr.drop(ev, "make-up "+string(ev.Makeup.Status)+": not counted")
			}
		}
	}
	slices.SortFunc(c.punches, comparePunch)
	// Duplicates: the same second and direction count once; the first in
	// the order above (a real punch before a make-up, then the smaller id)
	// is kept.
	for i := 1; i < len(c.punches); i++ {
		p, q := &c.punches[i], &c.punches[i-1]
		if p.sec == q.sec && p.dir == q.dir {
			p.dupOf = q.ev
			if q.dupOf != nil {
				p.dupOf = q.dupOf
			}
		}
	}

	// Approvals: one revision per (platform, tenant, approval_id).
	slices.SortFunc(approvals, compareApprovalKey)
	for i := 0; i < len(approvals); {
		j := i + 1
		for j < len(approvals) && compareApprovalKey(approvals[i], approvals[j]) == 0 {
			j++
		}
		ev := approvals[i]
		if j-i > 1 {
			ev, _ = latest(approvals[i:j], true)
		}
		i = j
		if tr != nil {
			tr.approvals = append(tr.approvals, ev)
		}
		a := ev.Approval
		if a.Status != mapping.StatusApproved {
			continue
		}
		iv := interval{s: a.Start.Unix(), e: a.End.Unix(), id: ev.ID}
		switch a.Type {
		case mapping.ApprovalLeave:
			c.leave = append(c.leave, iv)
		case mapping.ApprovalOvertime:
			c.overtime = append(c.overtime, iv)
		}
	}
	slices.SortFunc(c.leave, compareInterval)
	slices.SortFunc(c.overtime, compareInterval)
	return c
}

func comparePunch(a, b punch) int {
	if c := cmp.Compare(a.sec, b.sec); c != 0 {
		return c
	}
	if c := cmp.Compare(a.dir, b.dir); c != 0 {
		return c
	}
	if a.makeup != b.makeup {
		if a.makeup {
			return 1
		}
		return -1
	}
	if c := strings.Compare(a.ev.ID, b.ev.ID); c != 0 {
		return c
	}
	// Only reached for the same id, which collect never keeps twice.
	return a.ev.Time.Compare(b.ev.Time)
}

func compareApprovalKey(a, b *mapping.Event) int {
	if c := strings.Compare(a.Platform, b.Platform); c != 0 {
		return c
	}
	if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
		return c
	}
	return strings.Compare(a.Approval.ApprovalID, b.Approval.ApprovalID)
}

func compareInterval(a, b interval) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	if c := cmp.Compare(a.e, b.e); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// latest picks the latest revision among events sharing an id (or an
// approval id). Copies with the same fingerprint are one revision, which
// arrived at the earliest received_at among them. Revisions are ordered by
// arrival, or, for approvals (byTime), first by the event time (when the
// approval was decided, or submitted while pending); then by state
// (pending < approved < rejected < revoked) and finally by fingerprint, so
// that the choice never depends on input order. It returns the earliest
// copy of the chosen revision and that copy's arrival in Unix seconds.
func latest(group []*mapping.Event, byTime bool) (*mapping.Event, int64) {
	type rev struct {
		ev   *mapping.Event
		fp   string
		recv int64
	}
	revs := make([]rev, 0, len(group))
	for _, ev := range group {
		fp, recv := mapping.Fingerprint(*ev), ev.ReceivedAt.Unix()
		k := slices.IndexFunc(revs, func(r rev) bool { return r.fp == fp })
		switch {
		case k < 0:
			revs = append(revs, rev{ev, fp, recv})
		case recv < revs[k].recv || recv == revs[k].recv && earlierCopy(ev, revs[k].ev):
			revs[k] = rev{ev, fp, recv}
		}
	}
	best := slices.MaxFunc(revs, func(a, b rev) int {
		if byTime {
			if c := a.ev.Time.Compare(b.ev.Time); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(a.recv, b.recv); c != 0 {
			return c
		}
		if c := cmp.Compare(statusRank(state(a.ev)), statusRank(state(b.ev))); c != 0 {
			return c
		}
		return strings.Compare(a.fp, b.fp)
	})
	return best.ev, best.recv
}

// earlierCopy orders copies of one revision that arrived in the same
// second, so that the one kept does not depend on input order.
func earlierCopy(a, b *mapping.Event) bool {
	if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
		return c < 0
	}
	if a.Via != b.Via {
		return a.Via < b.Via
	}
	return a.Connector < b.Connector
}

func state(ev *mapping.Event) mapping.Status {
	switch {
	case ev.Approval != nil:
		return ev.Approval.Status
	case ev.Makeup != nil:
		return ev.Makeup.Status
	}
	return ""
}

// arrival is the instant the platform is known to have received a punch,
// in Unix seconds, for the offline-upload checks: the platform's own upload
// time when it reports one; else received_at for events pushed to us as
// they happened (webhook, stream); else the punch's own time, because a
// pulled punch's received_at is only when we pulled it and says nothing
// about how late the device uploaded.
func arrival(ev *mapping.Event, received int64) int64 {
	switch {
	case ev.Punch != nil && ev.Punch.UploadedAt != nil:
		return ev.Punch.UploadedAt.Unix()
	case ev.Via == mapping.ViaWebhook || ev.Via == mapping.ViaStream:
		return received
	}
	return ev.Time.Unix()
}
