package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// Event types the connector acts on (platform API reference A6).
const (
	evCheckURL       = "check_url"
	evCheckRecord    = "attendance_check_record"
	evInstanceChange = "bpms_instance_change"
	evTaskChange     = "bpms_task_change"
	evApproveStatus  = "attendance_approve_status_change"
	evDailySummary   = "attend_user_daily_summary_refresh"
	evBossCheck      = "attend_bossCheck_change"
	evScheduleChange = "attendance_schedule_change"
)

// errQueueFull: the follow-up queue is full; the delivery is refused so
// that the platform retries it.
var errQueueFull = errors.New("dingtalk: follow-up queue full")

// inbound is one platform event, from an HTTP push or a Stream frame: its
// type, its id (eventId, used to drop redeliveries), and its fields.
type inbound struct {
	Type    string
	ID      string
	Payload gjson.Result
	Via     mapping.Via
}

// deliver handles one event the way both HTTP push and Stream need: a
// redelivered event id is dropped; the event's own facts (punches) are
// ingested, durably, before deliver returns nil; the follow-up work it
// calls for (a punch's full record, an approval instance, a re-pull of
// user-days) is queued for Work. An error means the platform must deliver
// the event again: nothing was acknowledged.
func (c *Connector) deliver(ctx context.Context, in inbound, ingest connectors.EmitFunc) error {
	if in.ID != "" && c.seen.has(in.ID) {
		c.hooks.add("redelivered")
		return nil
	}
	events, jobs, known := c.handle(in)
	if !known {
		c.hooks.add("unknown_event")
		c.log.Info("event type not handled, acknowledged", "event_type", in.Type, "via", string(in.Via))
	}
	if len(events) > 0 {
		if err := ingest(ctx, events); err != nil {
			c.hooks.add("ingest_failed")
			return fmt.Errorf("dingtalk: store %d events of %s: %w", len(events), in.Type, err)
		}
	}
	jobs, err := c.storeTasks(ctx, jobs)
	if err != nil {
		c.hooks.add("task_store_failed")
		return err
	}
	if !c.queue.push(jobs...) {
		c.hooks.add("queue_full")
		return errQueueFull
	}
	if in.ID != "" {
		c.seen.add(in.ID)
	}
	if known {
		c.hooks.add("event:" + in.Type)
	}
	return nil
}

// handle maps an event to the events to store now and the jobs to queue.
// known is false for an event type the connector does not act on.
func (c *Connector) handle(in inbound) (events []mapping.Event, jobs []job, known bool) {
	now := c.now()
	due := now.Add(c.cfg.RefreshDelay)
	switch in.Type {
	case evCheckURL:
		return nil, nil, true
	case evCheckRecord:
		for _, item := range items(in.Payload) {
			ev, ok := c.pushedPunch(item, in.Payload, now, in.Via)
			if !ok {
				continue
			}
			events = append(events, ev)
			jobs = append(jobs, job{kind: jobPunch, users: []string{ev.UserID}, from: ev.Time, due: due, via: in.Via})
		}
		return events, jobs, true
	case evInstanceChange, evTaskChange, evApproveStatus:
		for _, item := range items(in.Payload) {
			id := first(item, "processInstanceId", "processInstanceID", "process_instance_id")
			code := first(item, "processCode", "process_code")
			if id == "" || len(c.procTypes) == 0 || (code != "" && c.processType(code) == "") {
				c.hooks.add("ignored_process")
				continue
			}
			jobs = append(jobs, job{kind: jobInstance, instance: id, code: code, due: now, via: in.Via})
		}
		return nil, jobs, true
	case evDailySummary, evBossCheck, evScheduleChange:
		for _, item := range items(in.Payload) {
			users := strList(item, "userIds", "userIdList", "userid_list")
			if u := first(item, "userId", "userid", "staffId"); u != "" {
				users = append(users, u)
			}
			users = c.ownUsers(users)
			from := workDate(first(item, "workDate", "workDateBegin", "work_date"))
			to := workDate(first(item, "workDateEnd", "workDate", "work_date"))
			if len(users) == 0 || from.IsZero() {
				continue
			}
			if to.Before(from) {
				to = from
			}
			// The user-days are whole calendar days in Asia/Shanghai; a
			// night shift's morning punches fall on the next day and are
			// re-pulled by its own summary event or the nightly pull.
			jobs = append(jobs, job{kind: jobDays, users: users, from: from, to: to.AddDate(0, 0, 1), due: now, via: in.Via})
		}
		return nil, jobs, true
	}
	return nil, nil, false
}

// items returns the records of an event: the elements of its dataList
// (DataList on the legacy page), or the event itself.
func items(p gjson.Result) []gjson.Result {
	for _, k := range []string{"dataList", "DataList", "datalist"} {
		if l := p.Get(k); l.IsArray() {
			return l.Array()
		}
	}
	return []gjson.Result{p}
}

// first returns the first non-empty of the fields of r.
func first(r gjson.Result, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(r.Get(k).String()); v != "" {
			return v
		}
	}
	return ""
}

// strList reads a list of strings, sent as a JSON array or as a string
// holding one or a comma-separated list.
func strList(r gjson.Result, keys ...string) []string {
	for _, k := range keys {
		v := r.Get(k)
		switch {
		case v.IsArray():
			var out []string
			for _, x := range v.Array() {
				if s := strings.TrimSpace(x.String()); s != "" {
					out = append(out, s)
				}
			}
			return out
		case v.Type == gjson.String && strings.HasPrefix(strings.TrimSpace(v.String()), "["):
			return strList(gjson.Parse(`{"l":`+v.String()+`}`), "l")
		case v.String() != "":
			var out []string
			for _, s := range strings.Split(v.String(), ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// workDate reads a work date sent as 2023-12-12, "2020-11-10 00:00:00" or
// milliseconds, as the start of that day in Asia/Shanghai.
func workDate(s string) time.Time {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 1e11 {
		y, m, d := time.UnixMilli(ms).In(shanghai).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, shanghai)
	}
	date, _, _ := strings.Cut(strings.TrimSpace(s), " ")
	t, err := time.ParseInLocation(time.DateOnly, date, shanghai)
	if err != nil {
		return time.Time{}
	}
	return t
}

// ownUsers keeps the users a pull would cover: all of them, or those of
// cfg.Users when it is set.
func (c *Connector) ownUsers(users []string) []string {
	if len(c.cfg.Users) == 0 {
		return users
	}
	var out []string
	for _, u := range users {
		for _, v := range c.cfg.Users {
			if u == v {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// pushedRecord is one element of an attendance_check_record event: the
// raw punch facts, without the platform's verdicts (platform API
// reference A6).
type pushedRecord struct {
	UserID         lenient.String `json:"userId"`
	CorpID         lenient.String `json:"corpId"`
	CheckTime      lenient.Int    `json:"checkTime"`
	LocationMethod lenient.String `json:"locationMethod"`
	LocationResult lenient.String `json:"locationResult"`
	Address        lenient.String `json:"address"`
	Latitude       lenient.Float  `json:"latitude"`
	Longitude      lenient.Float  `json:"longitude"`
	DeviceSN       lenient.String `json:"deviceSN"`
}

// decodePushed reads a pushed record as json.Unmarshal would (keys matched
// regardless of case, the last of a repeated key winning, each value as
// the lenient types take it) from the parse the callback already made:
// every pushed punch is read here, and reflection was a twentieth of a
// webhook's CPU.
func decodePushed(item gjson.Result) (pushedRecord, error) {
	var r pushedRecord
	if !item.IsObject() || !gjson.Valid(item.Raw) {
		return r, errors.New("dingtalk: a pushed record is not a JSON object")
	}
	fields := [...]struct {
		key string
		dst lenient.RawDecoder
	}{
		{"userId", &r.UserID}, {"corpId", &r.CorpID}, {"checkTime", &r.CheckTime},
		{"locationMethod", &r.LocationMethod}, {"locationResult", &r.LocationResult}, {"address", &r.Address},
		{"latitude", &r.Latitude}, {"longitude", &r.Longitude}, {"deviceSN", &r.DeviceSN},
	}
	var err error
	item.ForEach(func(k, v gjson.Result) bool {
		for _, f := range fields {
			if strings.EqualFold(k.Str, f.key) {
				err = f.dst.DecodeRaw(v.Raw)
				break
			}
		}
		return err == nil
	})
	return r, err
}

// pushedPunch maps one pushed punch to an event with the same id as the
// pulled record of the same punch (PunchID). The push carries fewer facts
// than listRecord — no check type, no time verdict — so this first
// revision has direction unknown; the full record, read after the
// acknowledgement (a jobPunch), is its second and last revision, identical
// to what a pull stores.
func (c *Connector) pushedPunch(item, event gjson.Result, received time.Time, via mapping.Via) (mapping.Event, bool) {
	r, err := decodePushed(item)
	if err != nil || r.UserID == "" || r.CheckTime <= 0 {
		c.hooks.add("bad_record")
		return mapping.Event{}, false
	}
	corp := string(r.CorpID)
	if corp == "" {
		corp = first(event, "CorpId", "corpId")
	}
	if corp != "" && corp != c.cfg.CorpID {
		c.hooks.add("other_corp")
		return mapping.Event{}, false
	}
	if len(c.ownUsers([]string{string(r.UserID)})) == 0 {
		return mapping.Event{}, false
	}
	p := &mapping.Punch{
		Direction: mapping.DirUnknown,
		Field:     string(r.LocationResult) == "Outside",
		Address:   string(r.Address),
		DeviceID:  string(r.DeviceSN),
	}
	switch strings.ToUpper(string(r.LocationMethod)) {
	case "ATM":
		p.Method = mapping.MethodDevice
	case "WIFI":
		p.Method = mapping.MethodWifi
	case "BEACON":
		p.Method = mapping.MethodBeacon
	default:
		p.Method = mapping.MethodApp
	}
	if p.Field {
		p.PlatformResult = "outside"
	}
	if r.Latitude.Set && r.Longitude.Set {
		lat, lng := r.Latitude.V, r.Longitude.V
		p.Lat, p.Lng = &lat, &lng
	}
	ms := int64(r.CheckTime)
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         PunchID(c.cfg.CorpID, string(r.UserID), ms),
		Kind:       mapping.KindPunch,
		Platform:   Platform,
		Connector:  c.name,
		Tenant:     c.cfg.CorpID,
		UserID:     string(r.UserID),
		Time:       time.UnixMilli(ms).In(shanghai),
		ReceivedAt: received,
		Via:        via,
		Punch:      p,
	}, true
}
