// Package reconcile is the attendance engine: it turns one employee's
// normalized events into day records under configurable shift rules. It is
// pure: no I/O, no clock of its own (the watermark is passed in), and the
// same input in any order gives the same output.
//
// Compile validates a Rules file into an Engine; Engine.Employee computes the
// final day records of one employee for a date range. EventSpan, DatesFor
// and DatesBetween tell a caller which events to load and which days a new
// event makes dirty.
// Engine.Explain computes the records of one date through the same code
// as Employee while recording each decision with the numbers compared, to
// answer "why was this person marked absent?".
//
// # Semantics
//
// All instants are compared in whole seconds (sub-second parts are dropped).
// Dates are YYYY-MM-DD in the rules' time zone.
//
// Shift occurrence. A shift with start S and end E on date D runs from D+S
// to D+E; if E <= S, it runs to (D+1)+E. Its window is
// [D+S − checkin_opens_before, end + checkout_closes_after], and both edges
// are inclusive (window start <= t <= window end). A punch belongs to the
// occurrence whose window contains it. The day record's date is D, the
// scheduled start date, even when the window opens on D−1 (a 00:30 shift
// with a 60m opening) or the shift ends on D+1.
//
// Several shifts a day (split shifts, or consecutive assignments). The
// occurrences of an employee are sorted by window start. For each
// consecutive pair, the later one's window start becomes max(earlier's
// scheduled end, its own window start), and the earlier one's window end
// becomes min(the later one's window start, its own window end). A punch on
// a shared edge goes to the earlier occurrence.
//
// Assignment. Dated assignments (from <= D <= to) beat per-employee ones,
// which beat the default. Each names one shift or a list of shifts (several
// a day). Rest days (assign.rest_days) and holidays keep their occurrences:
// a punch on them is still assigned to a window.
//
// Unassigned punches. A punch in no window is not counted. It is reported
// in the anomalies of the occurrence whose window is nearest (distance
// window start − t before it, t − window end after it; a tie goes to the
// earlier occurrence) as unassigned_punch, and it never disappears
// silently.
//
// Directions and working hours.
//   - alternate: each punch's own direction is ignored. first_in is the first
//     punch. last_out is the last punch when there are at least 2 punches,
//     and is absent otherwise. first_last: worked = last_out − first_in, or
//     0 with one punch. every_pair: the punches pair in order (1st–2nd,
//     3rd–4th, ...) and worked is the sum of the pairs; a trailing odd punch
//     adds nothing, but it is still last_out.
//   - strict: each punch's direction counts. Punches with unknown direction
//     are ignored and reported as unknown_direction. first_last: first_in is
//     the first in, last_out is the last out, and worked = last_out −
//     first_in when both exist and last_out > first_in (strict); otherwise
//     worked is 0, plus the anomaly out_before_in when both exist.
//     every_pair: in time order, an out with no open in is ignored; an in
//     opens a pair, and a further in while one is open is ignored (the
//     earlier one is kept); the first out after an open in closes the pair,
//     and further outs before the next in are ignored. first_in is the first
//     opening in, last_out is the end of the last closed pair, and worked is
//     the sum of the closed pairs.
//
// Worked time is summed in seconds and reported as whole minutes, rounded to
// the nearest minute (30 seconds round up). leave_minutes and
// overtime_minutes are rounded the same way.
//
// Late: first_in exists and first_in > D+S + late_grace (strict);
// late_minutes = whole minutes (rounded down) from D+S to first_in. Early
// exit: last_out exists and last_out < end − early_exit_grace (strict);
// early_exit_minutes = whole minutes (rounded down) from last_out to the
// end. Neither flag changes the status. Lateness is not flagged when leave
// covers the shift start (some approved leave has start <= D+S < end), and
// early exit is not flagged when leave covers the shift end (start < end
// <= leave end).
//
// Missing: in when there is no first_in, out when there is no last_out;
// nothing on rest days, holidays and on_leave days, which need no punch.
//
// Status, in this order:
//  1. holiday or rest_day when the date is one (a holiday wins over a rest
//     day) and there are no punches. Punches on such a day give present,
//     and all of their worked time counts as overtime under the overtime
//     policy; no lateness, early exit, missing punch or leave is reported.
//  2. on_leave when approved leave covers the whole scheduled shift
//     [D+S, end].
//  3. absent when there are no punches.
//  4. Let effective = worked_minutes + leave_minutes, where leave_minutes is
//     the overlap of approved leave (the union of the approvals) with the
//     scheduled shift. absent if absent_below > 0 and effective <
//     absent_below; else half_day if half_day_below > 0 and effective <
//     half_day_below; else present. The comparisons are strict.
//
// "Punches" here are the counted ones: in the window, not a duplicate, and
// in strict mode with a direction.
//
// Make-ups. An approved makeup event is a punch at its time, with its
// direction and method makeup. A pending one adds the anomaly makeup_pending
// to the occurrence its time falls in (or the nearest). A rejected or
// revoked one is ignored.
//
// Revisions. Copies of an event with one id and one fingerprint are one
// revision, received at the earliest received_at among them. Of several
// revisions of a punch or make-up (one id), the one received last counts;
// of an approval (one platform, tenant and approval_id), the one with the
// latest time (decided, or submitted while pending), then received last.
// Remaining ties go to the later state (pending < approved < rejected <
// revoked), then to the greater fingerprint. Pending, rejected and revoked
// approvals cover nothing. Only leave and overtime approvals affect a day.
//
// Overtime. The minutes worked at or after the scheduled end + overtime.after
// (on a rest day or holiday, all worked minutes). With requires_approval,
// only the part that also lies inside approved overtime approvals counts.
//
// Duplicates. Two punches of one employee at the same second with the same
// direction count once (anomaly duplicate_punch on the dropped one),
// whatever their ids; a real punch is kept over a make-up, then the smaller
// id. Punches at the same second with different directions both count.
//
// Anomalies never change the status. Beyond duplicate_punch, unassigned_punch,
// unknown_direction, out_before_in and makeup_pending:
//   - offline_upload when a punch reached the platform more than
//     offline_after (default 1h) after its time: arrival − time >
//     offline_after, where arrival is punch.uploaded_at when the platform
//     reports it, else received_at for webhook and stream events; a pulled
//     punch without uploaded_at is not judged, because its received_at is
//     only the time of the pull;
//   - location_jump when two consecutive located punches of one employee,
//     at most anomalies.lookback (default 12h) apart, are farther apart than
//     max_speed_kmh (default 120) allows: distance > speed × elapsed; or
//     when an offline upload lies more than drift_km (default 1) from the
//     previous online located punch within the lookback. Distances are
//     haversine on WGS-84 (GCJ-02 and BD-09 positions are converted), less
//     both punches' accuracy radii;
//   - the platform's outside, location_exception, device_exception and
//     wifi_exception verdicts, from punch.platform_result and
//     punch.anomalies, are carried over under their names, and so are the
//     connector findings in punch.anomalies; the timing verdicts are not,
//     since the engine judges time itself.
//
// Any type can be turned off with anomalies.disabled. A punch with
// platform_result not_signed is the platform's placeholder for a punch that
// did not happen and is not a punch.
//
// Finalization. An occurrence produces a day record only when its window end
// (after edge sharing) + settle < the watermark (strict). Until then it is
// simply not emitted: not absent, not anything. Occurrences with no punches
// become absent (rest_day, holiday, on_leave) records once final.
//
// Records carry events: the sorted ids of the counted punches and make-ups
// and of the approvals that contributed leave or overtime.
package reconcile
