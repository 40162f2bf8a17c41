package wecom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// checkinRow is one row of checkin/getcheckindata (获取打卡记录数据,
// platform API reference B2.1). Times are Unix seconds; lat and lng are
// degrees × 1,000,000 in GCJ-02.
type checkinRow struct {
	UserID         lenient.String `json:"userid"`
	GroupName      lenient.String `json:"groupname"`
	CheckinType    lenient.String `json:"checkin_type"`
	ExceptionType  lenient.String `json:"exception_type"`
	CheckinTime    lenient.Int    `json:"checkin_time"`
	LocationTitle  lenient.String `json:"location_title"`
	LocationDetail lenient.String `json:"location_detail"`
	WifiName       lenient.String `json:"wifiname"`
	WifiMac        lenient.String `json:"wifimac"`
	Lat            lenient.Int    `json:"lat"`
	Lng            lenient.Int    `json:"lng"`
	DeviceID       lenient.String `json:"deviceid"`
	SchCheckinTime lenient.Int    `json:"sch_checkin_time"`

	// raw is the row as WeCom sent it, kept beside the event for the
	// raw-payload retention.
	raw []byte
}

// UnmarshalJSON decodes a row and keeps its raw bytes.
func (r *checkinRow) UnmarshalJSON(b []byte) error {
	type plain checkinRow
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	r.raw = append([]byte(nil), b...)
	return nil
}

// Check-in types (checkin_type) and their short codes in punch ids.
const (
	typeOn     = "上班打卡"
	typeOff    = "下班打卡"
	typeField  = "外出打卡"
	typeRecord = "仅记录打卡时间和位置"
)

var typeCodes = map[string]string{typeOn: "on", typeOff: "off", typeField: "field", typeRecord: "record"}

// notSigned is the exception of a row that marks a missing punch.
const notSigned = "未打卡"

// exceptions normalizes exception_type values (B2.1).
var exceptions = map[string]string{
	"时间异常":    "time_exception",
	"地点异常":    "location_exception",
	notSigned: "not_signed",
	"wifi异常":  "wifi_exception",
	"非常用设备":   "device_exception",
}

// coordScale is what WeCom multiplies degrees by.
const coordScale = 1e6

// PunchID is the event id of a WeCom punch:
// wecom/<corp id>/punch/<userid>-<checkin_time in s>-<type code>, where
// the type code is on (上班打卡), off (下班打卡), field (外出打卡), record
// (仅记录打卡时间和位置), device (a raw device punch the check-in app did
// not record) or t<8 hex> for a type the docs do not list.
//
// WeCom gives check-in rows no record id, so the id is built from what
// identifies a punch. The type is part of it because one instant can be
// two rows: a punch that ends one time segment and starts the next is
// reported as both 下班打卡 and 上班打卡.
func PunchID(corpID, userID string, checkinTime int64, checkinType string) string {
	return Platform + "/" + corpID + "/" + string(mapping.KindPunch) + "/" + userID + "-" + strconv.FormatInt(checkinTime, 10) + "-" + typeCode(checkinType)
}

// typeDevice is the pseudo check-in type of a raw device punch.
const typeDevice = "device"

func typeCode(t string) string {
	if t == typeDevice {
		return typeDevice
	}
	if c, ok := typeCodes[t]; ok {
		return c
	}
	sum := sha256.Sum256([]byte(t))
	return "t" + hex.EncodeToString(sum[:4])
}

// isMarker reports whether r marks a missing punch (exception 未打卡):
// such rows carry the scheduled time as checkin_time and are never
// punches.
func (r checkinRow) isMarker() bool {
	for _, e := range strings.Split(string(r.ExceptionType), ";") {
		if strings.TrimSpace(e) == notSigned {
			return true
		}
	}
	return false
}

// event maps r to a punch event. It reports false for a marker row and for
// a row that names no user or no time, which no punch can represent.
func (r checkinRow) event(connector, corpID string, received time.Time, via mapping.Via) (mapping.Event, bool) {
	user, at := string(r.UserID), int64(r.CheckinTime)
	if user == "" || at <= 0 || r.isMarker() {
		return mapping.Event{}, false
	}
	typ := string(r.CheckinType)
	p := &mapping.Punch{
		Direction: mapping.DirUnknown,
		Method:    mapping.MethodApp,
		Address:   firstOf(string(r.LocationDetail), string(r.LocationTitle)),
		DeviceID:  string(r.DeviceID),
		WifiBSSID: string(r.WifiMac),
		WifiSSID:  string(r.WifiName),
	}
	switch typ {
	case typeOn:
		p.Direction = mapping.DirIn
	case typeOff:
		p.Direction = mapping.DirOut
	case typeField:
		p.Method, p.Field = mapping.MethodField, true
	case typeRecord:
	default:
		p.Anomalies = append(p.Anomalies, "unknown_checkin_type:"+typ)
	}
	if p.Method == mapping.MethodApp && p.WifiBSSID != "" {
		p.Method = mapping.MethodWifi
	}
	// 0,0 is what rows without a location carry; no punch is taken in the
	// Gulf of Guinea by a WeCom user.
	if r.Lat != 0 || r.Lng != 0 {
		lat, lng := float64(r.Lat)/coordScale, float64(r.Lng)/coordScale
		p.Lat, p.Lng, p.Datum = &lat, &lng, "gcj02"
	}
	if s := int64(r.SchCheckinTime); s > 0 {
		t := time.Unix(s, 0).In(shanghai)
		p.ScheduledAt = &t
	}
	verdict, anomalies := results(string(r.ExceptionType))
	p.PlatformResult = verdict
	p.Anomalies = append(anomalies, p.Anomalies...)
	if len(p.Anomalies) == 0 {
		p.Anomalies = nil
	}
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         PunchID(corpID, user, at, typ),
		Kind:       mapping.KindPunch,
		Platform:   Platform,
		Connector:  connector,
		Tenant:     corpID,
		UserID:     user,
		Time:       time.Unix(at, 0).In(shanghai),
		ReceivedAt: received,
		Via:        via,
		Punch:      p,
		Raw:        r.raw,
	}, true
}

// results splits exception_type on ";" into the platform verdict — the
// first recognized exception, or "normal" when there is none — and the
// anomalies: the other exceptions, then unknown ones as
// unknown_exception:<text>.
func results(exceptionType string) (verdict string, anomalies []string) {
	var known, unknown []string
	for _, e := range strings.Split(exceptionType, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if n, ok := exceptions[e]; ok {
			if !contains(known, n) {
				known = append(known, n)
			}
			continue
		}
		unknown = append(unknown, "unknown_exception:"+e)
	}
	if len(known) == 0 {
		return "normal", unknown
	}
	return known[0], append(known[1:], unknown...)
}

// hardwareRow is one raw punch of hardware/get_hardware_checkin_data
// (获取设备打卡数据, B2.2).
type hardwareRow struct {
	UserID      lenient.String `json:"userid"`
	CheckinTime lenient.Int    `json:"checkin_time"`
	DeviceSN    lenient.String `json:"device_sn"`
	DeviceName  lenient.String `json:"device_name"`
}

// event maps a raw device punch that has no check-in row to a punch event.
// Its direction is unknown (the machine does not say), and the anomaly
// device_only records that the check-in app did not count it, which by the
// API's description means it broke a punch rule.
func (r hardwareRow) event(connector, corpID string, received time.Time, via mapping.Via) (mapping.Event, bool) {
	user, at := string(r.UserID), int64(r.CheckinTime)
	if user == "" || at <= 0 {
		return mapping.Event{}, false
	}
	return mapping.Event{
		Schema:     mapping.EventSchema,
		ID:         PunchID(corpID, user, at, typeDevice),
		Kind:       mapping.KindPunch,
		Platform:   Platform,
		Connector:  connector,
		Tenant:     corpID,
		UserID:     user,
		Time:       time.Unix(at, 0).In(shanghai),
		ReceivedAt: received,
		Via:        via,
		Punch: &mapping.Punch{
			Direction: mapping.DirUnknown,
			Method:    mapping.MethodDevice,
			DeviceID:  string(r.DeviceSN),
			Address:   string(r.DeviceName),
			Anomalies: []string{"device_only"},
		},
	}, true
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
