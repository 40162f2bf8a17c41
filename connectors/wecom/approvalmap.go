package wecom

import (
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// approvalInfo is the info of oa/getapprovaldetail (获取审批申请详情, B3).
type approvalInfo struct {
	SpNo       flexString `json:"sp_no"`
	SpName     flexString `json:"sp_name"`
	SpStatus   flexInt    `json:"sp_status"`
	TemplateID flexString `json:"template_id"`
	ApplyTime  flexInt    `json:"apply_time"`
	Applyer    struct {
		UserID  flexString `json:"userid"`
		PartyID flexString `json:"partyid"`
	} `json:"applyer"`
	SpRecord []struct {
		SpStatus flexInt `json:"sp_status"`
		Details  []struct {
			SpStatus flexInt `json:"sp_status"`
			SpTime   flexInt `json:"sptime"`
		} `json:"details"`
	} `json:"sp_record"`
	ApplyData struct {
		Contents []formControl `json:"contents"`
	} `json:"apply_data"`
}

// formControl is one control of an approval form; only the attendance
// controls are read.
type formControl struct {
	Control flexString `json:"control"`
	ID      flexString `json:"id"`
	Value   struct {
		Vacation *struct {
			Selector struct {
				Options []struct {
					Key   flexString `json:"key"`
					Value []struct {
						Text flexString `json:"text"`
					} `json:"value"`
				} `json:"options"`
			} `json:"selector"`
			Attendance attendanceValue `json:"attendance"`
		} `json:"vacation"`
		Attendance      *attendanceValue `json:"attendance"`
		PunchCorrection *struct {
			State        flexString `json:"state"`
			Time         flexInt    `json:"time"`
			Version      flexInt    `json:"version"`
			DayMonthYear flexInt    `json:"daymonthyear"`
		} `json:"punch_correction"`
	} `json:"value"`
}

// attendanceValue is the 假勤 part of the Vacation and Attendance
// controls: the range, its length in seconds and the attendance type.
type attendanceValue struct {
	DateRange struct {
		Type        flexString `json:"type"`
		NewBegin    flexInt    `json:"new_begin"`
		NewEnd      flexInt    `json:"new_end"`
		NewDuration flexInt    `json:"new_duration"`
	} `json:"date_range"`
	Type      flexInt `json:"type"`
	SliceInfo struct {
		Duration flexInt `json:"duration"`
	} `json:"slice_info"`
}

// Controls that carry attendance facts.
const (
	controlVacation   = "Vacation"
	controlAttendance = "Attendance"
	controlCorrection = "PunchCorrection"
)

// statuses maps sp_status (B3): 1 审批中, 2 已通过, 3 已驳回, 4 已撤销,
// 6 通过后撤销, 7 已删除, 10 已支付 (paid, which follows an approval).
var statuses = map[int64]mapping.Status{
	1: mapping.StatusPending, 2: mapping.StatusApproved, 3: mapping.StatusRejected,
	4: mapping.StatusRevoked, 6: mapping.StatusRevoked, 7: mapping.StatusRevoked, 10: mapping.StatusApproved,
}

// attendanceTypes maps attendance.type: 1 请假, 3 出差, 4 外出, 5 加班.
var attendanceTypes = map[int64]string{
	1: mapping.ApprovalLeave, 3: mapping.ApprovalTrip, 4: mapping.ApprovalOut, 5: mapping.ApprovalOvertime,
}

// events maps one approval to its events: an approval event per Vacation
// or Attendance control, a makeup event per PunchCorrection control. The
// event id is the sp_no (wecom/<corp>/approval/<sp_no>,
// wecom/<corp>/makeup/<sp_no>; a second control of the same kind in one
// form gets -2, and so on), so every status change of an approval is a new
// revision of the same event. skipped says why controls were left out.
func (a approvalInfo) events(connector, corpID string, leaveTypes map[string]string, received time.Time, via mapping.Via) (events []mapping.Event, skipped []string) {
	spNo, user := string(a.SpNo), string(a.Applyer.UserID)
	status, ok := statuses[int64(a.SpStatus)]
	switch {
	case spNo == "" || user == "":
		return nil, []string{"no sp_no or applyer"}
	case !ok:
		return nil, []string{"unknown sp_status " + strconv.FormatInt(int64(a.SpStatus), 10)}
	}
	decided := a.decidedAt(status)
	seen := map[mapping.Kind]int{}
	base := func(kind mapping.Kind, at time.Time) mapping.Event {
		seen[kind]++
		id := Platform + "/" + corpID + "/" + string(kind) + "/" + spNo
		if n := seen[kind]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		return mapping.Event{
			Schema: mapping.EventSchema, ID: id, Kind: kind, Platform: Platform, Connector: connector,
			Tenant: corpID, UserID: user, Time: at, ReceivedAt: received, Via: via,
		}
	}
	for _, ctl := range a.ApplyData.Contents {
		v := ctl.Value
		switch string(ctl.Control) {
		case controlVacation:
			if v.Vacation == nil {
				skipped = append(skipped, "Vacation control without a value")
				continue
			}
			ap, ok := v.Vacation.Attendance.approval(mapping.ApprovalLeave, status, spNo)
			if !ok {
				skipped = append(skipped, "Vacation control without a date range")
				continue
			}
			if opts := v.Vacation.Selector.Options; len(opts) > 0 {
				name := string(opts[0].Key)
				if len(opts[0].Value) > 0 {
					name = string(opts[0].Value[0].Text)
				}
				ap.LeaveType = name
				if code, ok := leaveTypes[name]; ok {
					ap.LeaveType = code
				}
			}
			e := base(mapping.KindApproval, decided)
			e.Approval = ap
			events = append(events, e)
		case controlAttendance:
			if v.Attendance == nil {
				skipped = append(skipped, "Attendance control without a value")
				continue
			}
			typ, ok := attendanceTypes[int64(v.Attendance.Type)]
			if !ok {
				typ = mapping.ApprovalOther
			}
			ap, ok := v.Attendance.approval(typ, status, spNo)
			if !ok {
				skipped = append(skipped, "Attendance control without a date range")
				continue
			}
			e := base(mapping.KindApproval, decided)
			e.Approval = ap
			events = append(events, e)
		case controlCorrection:
			pc := v.PunchCorrection
			if pc == nil || pc.Time <= 0 {
				skipped = append(skipped, "PunchCorrection control without a time")
				continue
			}
			e := base(mapping.KindMakeup, time.Unix(int64(pc.Time), 0).In(shanghai))
			e.Makeup = &mapping.Makeup{
				Direction:  correctionDirection(string(pc.State)),
				Status:     status,
				ApprovalID: spNo,
				Reason:     string(pc.State),
			}
			events = append(events, e)
		}
	}
	return events, skipped
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

// approval builds the approval payload of a 假勤 value; ok is false
// without a usable range.
//
// For "hour" ranges new_begin and new_end are the instants. For "halfday"
// and "day" ranges the page does not say whether new_end is the last
// instant or the start of the last unit; when it falls on a unit boundary
// (00:00 or 12:00 for half days, 00:00 for days) it is read as the start
// of the last unit and the unit is added, so that the last half-day or day
// is covered (an inference, noted in the package doc).
func (v attendanceValue) approval(typ string, status mapping.Status, spNo string) (*mapping.Approval, bool) {
	dr := v.DateRange
	begin, end := int64(dr.NewBegin), int64(dr.NewEnd)
	if begin <= 0 || end <= 0 {
		return nil, false
	}
	start, stop := time.Unix(begin, 0).In(shanghai), time.Unix(end, 0).In(shanghai)
	switch strings.ToLower(string(dr.Type)) {
	case "halfday":
		if h, m, s := stop.Clock(); (h == 0 || h == 12) && m == 0 && s == 0 {
			stop = stop.Add(12 * time.Hour)
		}
	case "day":
		if h, m, s := stop.Clock(); h == 0 && m == 0 && s == 0 {
			stop = stop.Add(24 * time.Hour)
		}
	}
	secs := int64(dr.NewDuration)
	if secs <= 0 {
		secs = int64(v.SliceInfo.Duration)
	}
	return &mapping.Approval{
		Type:            typ,
		Status:          status,
		Start:           start,
		End:             stop,
		DurationMinutes: int(max(secs, 0) / 60),
		ApprovalID:      spNo,
	}, true
}

// correctionDirection reads the state of a 补卡 ("上班-未打卡",
// "下班-未打卡", ...): the part before "-" names the punch being made up.
func correctionDirection(state string) mapping.Direction {
	switch {
	case strings.HasPrefix(state, "上班"):
		return mapping.DirIn
	case strings.HasPrefix(state, "下班"):
		return mapping.DirOut
	}
	return mapping.DirUnknown
}
