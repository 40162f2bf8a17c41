package wecom

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// approvalInfo is the info of oa/getapprovaldetail (获取审批申请详情, B3):
// what the connector reads itself, and the whole object (raw), which the
// inbound mapping reads the form from.
type approvalInfo struct {
	SpNo       lenient.String `json:"sp_no"`
	SpName     lenient.String `json:"sp_name"`
	SpStatus   lenient.Int    `json:"sp_status"`
	TemplateID lenient.String `json:"template_id"`
	ApplyTime  lenient.Int    `json:"apply_time"`
	Applyer    struct {
		UserID  lenient.String `json:"userid"`
		PartyID lenient.String `json:"partyid"`
	} `json:"applyer"`
	SpRecord []struct {
		SpStatus lenient.Int `json:"sp_status"`
		Details  []struct {
			SpStatus lenient.Int `json:"sp_status"`
			SpTime   lenient.Int `json:"sptime"`
		} `json:"details"`
	} `json:"sp_record"`
	raw []byte
}

// UnmarshalJSON decodes the info and keeps its JSON.
func (a *approvalInfo) UnmarshalJSON(b []byte) error {
	type plain approvalInfo
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*a = approvalInfo(p)
	a.raw = append([]byte(nil), b...)
	return nil
}

// Controls that carry attendance facts.
const (
	controlVacation   = "Vacation"
	controlAttendance = "Attendance"
	controlCorrection = "PunchCorrection"
)

func isAttendanceControl(c string) bool {
	return c == controlVacation || c == controlAttendance || c == controlCorrection
}

// statuses maps sp_status (B3) when the inbound mapping gives no status:
// 1 审批中, 2 已通过, 3 已驳回, 4 已撤销, 6 通过后撤销, 7 已删除, 10 已支付
// (paid, which follows an approval).
var statuses = map[int64]mapping.Status{
	1: mapping.StatusPending, 2: mapping.StatusApproved, 3: mapping.StatusRejected,
	4: mapping.StatusRevoked, 6: mapping.StatusRevoked, 7: mapping.StatusRevoked, 10: mapping.StatusApproved,
}

// events maps one approval to its events through the inbound mapping in:
// an approval or make-up event per attendance control (Vacation,
// Attendance, PunchCorrection), or one for a form of the company's own
// that the mapping reads. The event id is the sp_no
// (wecom/<corp>/approval/<sp_no>, wecom/<corp>/makeup/<sp_no>; a second
// control of the same kind in one form gets -2, and so on), so every
// status change of an approval is a new revision of the same event. A
// form the mapping does not take for attendance gives none; skipped says
// why attendance controls were left out.
func (a approvalInfo) events(in *mapping.Inbound, connector, corpID string, received time.Time, via mapping.Via) (events []mapping.Event, skipped []string) {
	spNo, user := string(a.SpNo), string(a.Applyer.UserID)
	if spNo == "" || user == "" {
		return nil, []string{"no sp_no or applyer"}
	}
	seen := map[mapping.Kind]int{}
	for _, p := range a.payloads() {
		f, err := in.Apply("", p)
		switch {
		case errors.Is(err, mapping.ErrSkip):
			continue
		case err != nil:
			skipped = append(skipped, err.Error())
			continue
		}
		status := f.Status
		if status == "" {
			st, ok := statuses[int64(a.SpStatus)]
			if !ok {
				skipped = append(skipped, "unknown sp_status "+strconv.FormatInt(int64(a.SpStatus), 10))
				continue
			}
			status = st
		}
		seen[f.Kind]++
		id := Platform + "/" + corpID + "/" + string(f.Kind) + "/" + spNo
		if n := seen[f.Kind]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		e := mapping.Event{
			Schema: mapping.EventSchema, ID: id, Kind: f.Kind, Platform: Platform, Connector: connector,
			Tenant: corpID, UserID: user, Time: a.decidedAt(status), ReceivedAt: received, Via: via,
		}
		if f.Kind == mapping.KindMakeup {
			e.Time = f.Time // the corrected punch
			e.Makeup = &mapping.Makeup{Direction: f.Direction, Status: status, ApprovalID: spNo, Reason: f.Reason}
		} else {
			e.Approval = &mapping.Approval{
				Type: f.Type, LeaveType: f.LeaveType, Status: status,
				Start: f.Start, End: unitEnd(p, f.End), DurationMinutes: f.DurationMinutes, ApprovalID: spNo,
			}
		}
		events = append(events, e)
	}
	return events, skipped
}

// payloads splits the approval for the mapping, which reads one set of
// facts per payload: with several attendance controls, one payload per
// control, holding it and the form's other (non-attendance) controls;
// otherwise the approval as it is.
func (a approvalInfo) payloads() [][]byte {
	contents := gjson.GetBytes(a.raw, "apply_data.contents").Array()
	var att []int
	for i, c := range contents {
		if isAttendanceControl(c.Get("control").String()) {
			att = append(att, i)
		}
	}
	if len(att) <= 1 {
		return [][]byte{a.raw}
	}
	out := make([][]byte, 0, len(att))
	for _, keep := range att {
		var b strings.Builder
		b.WriteByte('[')
		for i, c := range contents {
			if i != keep && isAttendanceControl(c.Get("control").String()) {
				continue
			}
			if b.Len() > 1 {
				b.WriteByte(',')
			}
			b.WriteString(c.Raw)
		}
		b.WriteByte(']')
		p, err := sjson.SetRawBytes(append([]byte(nil), a.raw...), "apply_data.contents", []byte(b.String()))
		if err != nil {
			// The path is fixed and the array is made of valid elements.
			continue
		}
		out = append(out, p)
	}
	return out
}

// decidedAt is the event time of an approval: when it was decided (the
// latest approver action), or submitted while pending or when no action
// time is known.
func (a approvalInfo) decidedAt(status mapping.Status) time.Time {
	at := int64(a.ApplyTime)
	if status != mapping.StatusPending {
		for _, r := range a.SpRecord {
			for _, d := range r.Details {
				at = max(at, int64(d.SpTime))
			}
		}
	}
	return time.Unix(at, 0).In(shanghai)
}

// unitEnd applies the one rule of the 假勤 range the mapping cannot:
// for "halfday" and "day" ranges the page does not say whether new_end is
// the last instant or the start of the last unit; when it falls on a unit
// boundary (00:00 or 12:00 for half days, 00:00 for days) it is read as
// the start of the last unit and the unit is added, so that the last
// half-day or day is covered (an inference, noted in the package doc).
// end is the end the mapping read from payload p; an end read from
// anywhere but the payload's Vacation or Attendance control is kept.
func unitEnd(p []byte, end time.Time) time.Time {
	dr := gjson.GetBytes(p, `apply_data.contents.#(control=="Vacation").value.vacation.attendance.date_range`)
	if !dr.Exists() {
		dr = gjson.GetBytes(p, `apply_data.contents.#(control=="Attendance").value.attendance.date_range`)
	}
	if !dr.Exists() || end.IsZero() || dr.Get("new_end").Int() != end.Unix() {
		return end
	}
	stop := end.In(shanghai)
	h, m, s := stop.Clock()
	switch strings.ToLower(dr.Get("type").String()) {
	case "halfday":
		if (h == 0 || h == 12) && m == 0 && s == 0 {
			return stop.Add(12 * time.Hour)
		}
	case "day":
		if h == 0 && m == 0 && s == 0 {
			return stop.Add(24 * time.Hour)
		}
	}
	return end
}
