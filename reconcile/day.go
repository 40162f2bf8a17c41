package reconcile

import (
	"github.com/punchbridge/punchbridge/mapping"
)

// span is a worked stretch [s, e) in Unix seconds.
type span struct{ s, e int64 }

// pairing is the outcome of pairing one occurrence's punches.
type pairing struct {
	firstIn, lastOut *punch
	worked           []span
	outBeforeIn      bool
}

// pair applies the shift's directions and working_hours to the counted
// punches ps (in time order; in strict mode without unknown directions):
//
//   - alternate: each punch's own direction is ignored. first_in is the
//     first punch; last_out is the last punch when there are at least 2,
//     and absent otherwise.
//   - alternate + first_last: worked = last_out − first_in, or 0 with one
//     punch.
//   - alternate + every_pair: the 1st–2nd, 3rd–4th, ... punches are pairs
//     and worked is their sum; a trailing odd punch adds nothing but is
//     still last_out.
//   - strict + first_last: first_in is the first in, last_out the last
//     out; worked = last_out − first_in when both exist and last_out >
//     first_in (strict); otherwise 0, with out_before_in when both exist.
//   - strict + every_pair: in time order, an out with no open in is
//     ignored; an in opens a pair and a further in while one is open is
//     ignored (the earlier is kept); the first out after an open in closes
//     the pair and further outs before the next in are ignored. first_in is
//     the first opening in, last_out the end of the last closed pair, and
//     worked the sum of the closed pairs.
//
// tr, when not nil, records each punch's part in the pairing for Explain.
func pair(s *shiftDef, ps []*punch, buf []span, tr *trace) pairing {
	r := pairing{worked: buf[:0]}
	n := len(ps)
	switch {
	case !s.strict:
		if n == 0 {
			return r
		}
		r.firstIn = ps[0]
		if n >= 2 {
			r.lastOut = ps[n-1]
		}
		if tr != nil {
			tr.alternate(ps, s.everyPair)
		}
		if !s.everyPair {
			if n >= 2 {
				r.worked = append(r.worked, span{ps[0].sec, ps[n-1].sec})
			}
			return r
		}
		for i := 0; i+1 < n; i += 2 {
			r.worked = append(r.worked, span{ps[i].sec, ps[i+1].sec})
		}
	case !s.everyPair:
		for _, p := range ps {
			switch p.dir {
			case mapping.DirIn:
				if r.firstIn == nil {
					r.firstIn = p
				}
			case mapping.DirOut:
				r.lastOut = p
			}
		}
		if tr != nil {
			tr.strictFirstLast(ps, r.firstIn, r.lastOut)
		}
		if r.firstIn != nil && r.lastOut != nil {
			if r.lastOut.sec > r.firstIn.sec {
				r.worked = append(r.worked, span{r.firstIn.sec, r.lastOut.sec})
			} else {
				r.outBeforeIn = true
			}
		}
	default:
		var open *punch
		for _, p := range ps {
			switch {
			case p.dir == mapping.DirIn && open == nil:
				open = p
				if r.firstIn == nil {
					r.firstIn = p
				}
				if tr != nil {
					tr.opens(p, len(r.worked)+1)
				}
			case p.dir == mapping.DirOut && open != nil:
				r.worked = append(r.worked, span{open.sec, p.sec})
				r.lastOut = p
				open = nil
				if tr != nil {
					tr.closes(p, len(r.worked))
				}
			case tr != nil:
				tr.unpaired(p, open != nil)
			}
		}
		if open != nil && tr != nil {
			tr.leftOpen(open, len(r.worked)+1)
		}
	}
	return r
}

// overlap is the length of [a, b) ∩ [c, d), never negative.
func overlap(a, b, c, d int64) int64 {
	return max(0, min(b, d)-max(a, c))
}

// coverage measures approved leave against the scheduled shift [start, end):
// the seconds of the shift inside the union of the leave intervals, whether
// the union covers the start (some leave has s <= start < e) and the end
// (s < end <= e), and the ids of the leave approvals that overlap the shift.
type coverage struct {
	sec             int64
	start, end, all bool
	ids             []string
}

func leaveCoverage(leave []interval, start, end int64) coverage {
	var c coverage
	cur := start // the union is measured by sweeping leave sorted by s
	for _, iv := range leave {
		if iv.s >= end {
			break
		}
		if iv.e <= start {
			continue
		}
		if overlap(iv.s, iv.e, start, end) > 0 {
			c.ids = append(c.ids, iv.id)
		}
		if iv.s <= start && start < iv.e {
			c.start = true
		}
		if iv.s < end && end <= iv.e {
			c.end = true
		}
		if s := max(iv.s, cur); iv.e > s {
			c.sec += min(iv.e, end) - s
			cur = min(iv.e, end)
		}
	}
	c.all = end > start && c.sec == end-start
	return c
}

// overtimeSec is the worked time at or after from (end + overtime.after, or
// the whole day on a rest day or holiday). With requires_approval, only the
// part also inside approved overtime counts, and ids collects the overtime
// approvals that contributed.
func overtimeSec(worked []span, from int64, requiresApproval bool, ot []interval, ids *[]string) int64 {
	var total int64
	for _, w := range worked {
		s := max(w.s, from)
		if w.e <= s {
			continue
		}
		if !requiresApproval {
			total += w.e - s
			continue
		}
		// Approved overtime may overlap itself; sweep its union.
		cur := s
		for _, iv := range ot {
			if iv.s >= w.e {
				break
			}
			a, b := max(iv.s, cur), min(iv.e, w.e)
			if b > a {
				total += b - a
				cur = b
				*ids = append(*ids, iv.id)
			}
		}
	}
	return total
}

// minutes rounds seconds to the nearest whole minute, half up.
func minutes(sec int64) int { return int((sec + 30) / 60) }
