package dingtalk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// punchRecord is one raw punch of attendance/listRecord (获取打卡详情,
// platform API reference A2.2). Every field is decoded leniently: the docs
// type them as strings, the platform's samples send numbers, and an
// unexpected type must not fail a whole page.
type punchRecord struct {
	ID                lenient.String `json:"id"`
	UserID            lenient.String `json:"userId"`
	CheckType         lenient.String `json:"checkType"`
	TimeResult        lenient.String `json:"timeResult"`
	LocationResult    lenient.String `json:"locationResult"`
	SourceType        lenient.String `json:"sourceType"`
	LocationMethod    lenient.String `json:"locationMethod"`
	UserCheckTime     lenient.Int    `json:"userCheckTime"`
	CheckTime         lenient.Int    `json:"checkTime"` // the name punch events use; accepted as a fallback
	BaseCheckTime     lenient.Int    `json:"baseCheckTime"`
	PlanCheckTime     lenient.Int    `json:"planCheckTime"`
	IsLegal           lenient.Bool   `json:"isLegal"`
	InvalidRecordType lenient.String `json:"invalidRecordType"`
	UserLatitude      lenient.Float  `json:"userLatitude"`
	UserLongitude     lenient.Float  `json:"userLongitude"`
	UserAccuracy      lenient.Float  `json:"userAccuracy"`
	UserAddress       lenient.String `json:"userAddress"`
	DeviceID          lenient.String `json:"deviceId"`
	DeviceSN          lenient.String `json:"deviceSN"`
	UserSSID          lenient.String `json:"userSsid"`
	UserMacAddr       lenient.String `json:"userMacAddr"`

	// raw is the record as the platform sent it, kept beside the event for
	// the raw-payload retention.
	raw []byte
}

// fields maps each listRecord field name to its place in a punchRecord.
// Decoding walks a record's keys once with gjson and hands each value to
// its lenient decoder as the string gjson holds (converting each value to
// []byte for UnmarshalJSON and back cost a quarter of the decoding): a
// page of 50 users × 7 days holds hundreds of records, and
// reflection-driven decoding of every field was most of a pull's CPU time.
var fields = map[string]func(*punchRecord) lenient.RawDecoder{
	"id":                func(r *punchRecord) lenient.RawDecoder { return &r.ID },
	"userId":            func(r *punchRecord) lenient.RawDecoder { return &r.UserID },
	"checkType":         func(r *punchRecord) lenient.RawDecoder { return &r.CheckType },
	"timeResult":        func(r *punchRecord) lenient.RawDecoder { return &r.TimeResult },
	"locationResult":    func(r *punchRecord) lenient.RawDecoder { return &r.LocationResult },
	"sourceType":        func(r *punchRecord) lenient.RawDecoder { return &r.SourceType },
	"locationMethod":    func(r *punchRecord) lenient.RawDecoder { return &r.LocationMethod },
	"userCheckTime":     func(r *punchRecord) lenient.RawDecoder { return &r.UserCheckTime },
	"checkTime":         func(r *punchRecord) lenient.RawDecoder { return &r.CheckTime },
	"baseCheckTime":     func(r *punchRecord) lenient.RawDecoder { return &r.BaseCheckTime },
	"planCheckTime":     func(r *punchRecord) lenient.RawDecoder { return &r.PlanCheckTime },
	"isLegal":           func(r *punchRecord) lenient.RawDecoder { return &r.IsLegal },
	"invalidRecordType": func(r *punchRecord) lenient.RawDecoder { return &r.InvalidRecordType },
	"userLatitude":      func(r *punchRecord) lenient.RawDecoder { return &r.UserLatitude },
	"userLongitude":     func(r *punchRecord) lenient.RawDecoder { return &r.UserLongitude },
	"userAccuracy":      func(r *punchRecord) lenient.RawDecoder { return &r.UserAccuracy },
	"userAddress":       func(r *punchRecord) lenient.RawDecoder { return &r.UserAddress },
	"deviceId":          func(r *punchRecord) lenient.RawDecoder { return &r.DeviceID },
	"deviceSN":          func(r *punchRecord) lenient.RawDecoder { return &r.DeviceSN },
	"userSsid":          func(r *punchRecord) lenient.RawDecoder { return &r.UserSSID },
	"userMacAddr":       func(r *punchRecord) lenient.RawDecoder { return &r.UserMacAddr },
}

// UnmarshalJSON decodes one record leniently; fields it does not use are
// skipped without being decoded.
func (r *punchRecord) UnmarshalJSON(b []byte) error {
	v := gjson.ParseBytes(b)
	if !v.IsObject() {
		return fmt.Errorf("dingtalk: a record is not a JSON object: %.40s", b)
	}
	return r.decode(v)
}

func (r *punchRecord) decode(v gjson.Result) error {
	r.raw = []byte(v.Raw)
	var err error
	v.ForEach(func(k, val gjson.Result) bool {
		f, ok := fields[k.Str]
		if !ok {
			return true
		}
		if e := f(r).DecodeRaw(val.Raw); e != nil {
			err = fmt.Errorf("dingtalk: record field %s: %w", k.Str, e)
			return false
		}
		return true
	})
	return err
}

// PunchID is the event id of a DingTalk punch:
// dingtalk/<corp id>/punch/<user id>-<check time in ms>.
//
// It is built from the user and the punch instant rather than the record's
// id because the attendance_check_record push event carries no record id:
// a punch that arrives by push and again by pull must get the same id, so
// that the ledger stores it once.
func PunchID(corpID, userID string, checkTimeMs int64) string {
	return Platform + "/" + corpID + "/" + string(mapping.KindPunch) + "/" + userID + "-" + strconv.FormatInt(checkTimeMs, 10)
}

// event maps r to a punch event. It reports false for a record that names
// no user or no check time, which no event can represent.
func (r punchRecord) event(connector, corpID string, received time.Time) (mapping.Event, bool) {
	ms := int64(r.UserCheckTime)
	if ms <= 0 {
		ms = int64(r.CheckTime)
	}
	user := string(r.UserID)
	if ms <= 0 || user == "" {
		return mapping.Event{}, false
	}
	method, methodKnown := punchMethod(string(r.SourceType), string(r.LocationMethod))
	p := &mapping.Punch{
		Direction: direction(string(r.CheckType)),
		Method:    method,
		Field:     string(r.LocationResult) == "Outside",
		Address:   string(r.UserAddress),
		DeviceID:  string(r.DeviceID),
		WifiBSSID: string(r.UserMacAddr),
		WifiSSID:  string(r.UserSSID),
	}
	if p.DeviceID == "" {
		p.DeviceID = string(r.DeviceSN)
	}
	if r.UserLatitude.Set && r.UserLongitude.Set {
		lat, lng := r.UserLatitude.V, r.UserLongitude.V
		p.Lat, p.Lng = &lat, &lng
	}
	if r.UserAccuracy.Set {
		acc := r.UserAccuracy.V
		p.AccuracyM = &acc
	}
	if base := int64(r.BaseCheckTime); base > 0 {
		t := time.UnixMilli(base).In(shanghai)
		p.ScheduledAt = &t
	} else if plan := int64(r.PlanCheckTime); plan > 0 {
		t := time.UnixMilli(plan).In(shanghai)
		p.ScheduledAt = &t
	}
	p.PlatformResult, p.Anomalies = results(string(r.TimeResult), string(r.LocationResult))
	if !methodKnown {
		p.Anomalies = append(p.Anomalies, "unknown_source_type:"+string(r.SourceType))
	}
	switch {
	case r.InvalidRecordType != "":
		// Flagged records (需要二次确认, security) are kept, never dropped:
		// HR decides what an invalid punch means, not the bridge.
		p.Anomalies = append(p.Anomalies, "invalid_record:"+strings.ToLower(string(r.InvalidRecordType)))
	case r.IsLegal.Set && !r.IsLegal.V && (p.PlatformResult == "" || p.PlatformResult == "normal"):
		// isLegal is N whenever a result is not Normal; it only says
		// something new when the results do not explain it.
		p.Anomalies = append(p.Anomalies, "not_legal")
	}
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         PunchID(corpID, user, ms),
		Kind:       mapping.KindPunch,
		Platform:   Platform,
		Connector:  connector,
		Tenant:     corpID,
		UserID:     user,
		Time:       time.UnixMilli(ms).In(shanghai),
		ReceivedAt: received,
		Via:        mapping.ViaPull,
		Punch:      p,
		Raw:        r.raw,
	}, true
}

// direction maps checkType: OnDuty 上班 is in, OffDuty 下班 is out.
func direction(checkType string) mapping.Direction {
	switch checkType {
	case "OnDuty":
		return mapping.DirIn
	case "OffDuty":
		return mapping.DirOut
	}
	return mapping.DirUnknown
}

// punchMethod maps sourceType (and, for phone punches, locationMethod) to
// a punch method; known is false for a source type the docs do not list.
func punchMethod(source, locationMethod string) (method string, known bool) {
	switch source {
	case "ATM", "DING_ATM": // attendance machine (fingerprint/face), Bluetooth machine
		return mapping.MethodDevice, true
	case "BEACON":
		return mapping.MethodBeacon, true
	case "USER":
		if strings.EqualFold(locationMethod, "WIFI") {
			return mapping.MethodWifi, true
		}
		return mapping.MethodApp, true
	case "APPROVE": // produced by an approval, e.g. an approved 补卡
		return mapping.MethodMakeup, true
	case "BOSS", "SYSTEM", "AUTO_CHECK": // admin change, attendance system, auto punch
		return mapping.MethodSystem, true
	}
	return mapping.MethodApp, false
}

var (
	timeResults = map[string]string{
		"Normal": "normal", "Late": "late", "SeriousLate": "serious_late",
		"Early": "early", "Absenteeism": "absent", "NotSigned": "not_signed",
	}
	locationResults = map[string]string{
		"Normal": "normal", "Outside": "outside", "NotSigned": "not_signed",
	}
)

// results normalizes timeResult and locationResult into the platform
// verdict: the first of them that is not normal, the other one (if also
// not normal) becoming an anomaly; "normal" when both are normal; empty
// when the record has neither (invalid records carry none). Values the
// docs do not list become anomalies.
func results(timeResult, locationResult string) (verdict string, anomalies []string) {
	var bad []string
	normal := false
	for _, r := range []struct{ raw, norm, kind string }{
		{timeResult, timeResults[timeResult], "time"},
		{locationResult, locationResults[locationResult], "location"},
	} {
		switch {
		case r.raw == "":
		case r.norm == "":
			anomalies = append(anomalies, "unknown_"+r.kind+"_result:"+r.raw)
		case r.norm == "normal":
			normal = true
		case len(bad) == 0 || bad[0] != r.norm:
			bad = append(bad, r.norm)
		}
	}
	switch {
	case len(bad) > 0:
		verdict = bad[0]
		anomalies = append(bad[1:], anomalies...)
	case normal:
		verdict = "normal"
	}
	if len(anomalies) == 0 {
		anomalies = nil
	}
	return verdict, anomalies
}
