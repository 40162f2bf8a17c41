package wecom

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

func TestCheckinRowToEvent(t *testing.T) {
	received := time.Date(2026, 3, 3, 2, 0, 0, 0, shanghai)
	at := time.Date(2026, 3, 2, 9, 3, 12, 0, shanghai)
	sched := time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai)
	for _, tc := range []struct {
		name string
		row  string // one getcheckindata row
		want *mapping.Punch
		id   string
	}{
		{
			name: "on duty, late and out of place, with location",
			row: `{"userid":"james","checkin_type":"上班打卡","exception_type":"时间异常;地点异常","checkin_time":1772413392,
				"location_title":"依澜府","location_detail":"四川省成都市武侯区益州大道中段784号附近","wifiname":"","wifimac":"",
				"lat":30547645,"lng":104063236,"deviceid":"E5FA89F6","sch_checkin_time":1772413200,"groupid":1,"schedule_id":0,"timeline_id":2}`,
			want: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, Lat: pointer(30.547645), Lng: pointer(104.063236),
				Datum: "gcj02", Address: "四川省成都市武侯区益州大道中段784号附近", DeviceID: "E5FA89F6",
				PlatformResult: "time_exception", Anomalies: []string{"location_exception"}, ScheduledAt: &sched},
			id: "wecom/wwcorp/punch/james-1772413392-on",
		},
		{
			name: "off duty by wifi, normal",
			row: `{"userid":"james","checkin_type":"下班打卡","exception_type":"","checkin_time":"1772413392",
				"location_title":"依澜府","wifiname":"办公一区","wifimac":"3c:46:d8:0c:7a:70","lat":0,"lng":0,"sch_checkin_time":1772413200}`,
			want: &mapping.Punch{Direction: mapping.DirOut, Method: mapping.MethodWifi, Address: "依澜府",
				WifiSSID: "办公一区", WifiBSSID: "3c:46:d8:0c:7a:70", PlatformResult: "normal", ScheduledAt: &sched},
			id: "wecom/wwcorp/punch/james-1772413392-off",
		},
		{
			name: "field punch",
			row: `{"userid":"paul","checkin_type":"外出打卡","exception_type":"时间异常","checkin_time":1772413392,
				"location_title":"重庆出口加工区","lat":30547645,"lng":104063236,"sch_checkin_time":0}`,
			want: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodField, Field: true, Lat: pointer(30.547645),
				Lng: pointer(104.063236), Datum: "gcj02", Address: "重庆出口加工区", PlatformResult: "time_exception"},
			id: "wecom/wwcorp/punch/paul-1772413392-field",
		},
		{
			name: "wifi and device exceptions, an unknown one kept as anomaly",
			row:  `{"userid":"a","checkin_type":"上班打卡","exception_type":"wifi异常; 非常用设备;新异常","checkin_time":1772413392}`,
			want: &mapping.Punch{Direction: mapping.DirIn, Method: mapping.MethodApp, PlatformResult: "wifi_exception",
				Anomalies: []string{"device_exception", "unknown_exception:新异常"}},
			id: "wecom/wwcorp/punch/a-1772413392-on",
		},
		{
			name: "record-only punch",
			row:  `{"userid":"a","checkin_type":"仅记录打卡时间和位置","exception_type":"","checkin_time":1772413392}`,
			want: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp, PlatformResult: "normal"},
			id:   "wecom/wwcorp/punch/a-1772413392-record",
		},
		{
			name: "unknown type",
			row:  `{"userid":"a","checkin_type":"加班打卡","exception_type":"","checkin_time":1772413392}`,
			want: &mapping.Punch{Direction: mapping.DirUnknown, Method: mapping.MethodApp, PlatformResult: "normal",
				Anomalies: []string{"unknown_checkin_type:加班打卡"}},
			id: "wecom/wwcorp/punch/a-1772413392-t" + typeCode("加班打卡")[1:],
		},
		{name: "missing punch marker", row: `{"userid":"a","checkin_type":"上班打卡","exception_type":"未打卡","checkin_time":1772413200,"sch_checkin_time":1772413200}`},
		{name: "marker with another exception", row: `{"userid":"a","checkin_type":"下班打卡","exception_type":"地点异常;未打卡","checkin_time":1772413200}`},
		{name: "no user", row: `{"userid":"","checkin_type":"上班打卡","checkin_time":1772413392}`},
		{name: "no time", row: `{"userid":"a","checkin_type":"上班打卡","checkin_time":0}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r checkinRow
			if err := json.Unmarshal([]byte(tc.row), &r); err != nil {
				t.Fatal(err)
			}
			ev, ok := r.event("wecom-hq", "wwcorp", received, mapping.ViaPull)
			if tc.want == nil {
				if ok {
					t.Fatalf("row became a punch: %+v", ev)
				}
				return
			}
			if !ok {
				t.Fatal("row dropped")
			}
			if !reflect.DeepEqual(ev.Punch, tc.want) {
				g, _ := json.Marshal(ev.Punch)
				w, _ := json.Marshal(tc.want)
				t.Errorf("punch\n got %s\nwant %s", g, w)
			}
			if ev.ID != tc.id || !ev.Time.Equal(at) || ev.UserID == "" || ev.Tenant != "wwcorp" {
				t.Errorf("event %s at %s, want %s at %s", ev.ID, ev.Time, tc.id, at)
			}
			if err := mapping.Validate(ev); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestPunchIDsDistinguishTypesAtOneInstant(t *testing.T) {
	on := PunchID("ww", "u", 1772413392, typeOn)
	off := PunchID("ww", "u", 1772413392, typeOff)
	dev := PunchID("ww", "u", 1772413392, typeDevice)
	if on == off || on == dev || off == dev {
		t.Fatalf("ids collide: %s %s %s", on, off, dev)
	}
	if typeCode("甲") == typeCode("乙") || typeCode("甲") != typeCode("甲") {
		t.Fatal("unknown type codes must be stable and distinct")
	}
}

func TestDeviceRowToEvent(t *testing.T) {
	var r hardwareRow
	if err := json.Unmarshal([]byte(`{"userid":"james","checkin_time":1772413392,"device_sn":"KQJ000001","device_name":"西湖门店"}`), &r); err != nil {
		t.Fatal(err)
	}
	ev, ok := r.event("wecom-hq", "wwcorp", time.Now(), mapping.ViaPull)
	if !ok || ev.ID != "wecom/wwcorp/punch/james-1772413392-device" || ev.Punch.Method != mapping.MethodDevice ||
		ev.Punch.Direction != mapping.DirUnknown || ev.Punch.DeviceID != "KQJ000001" || ev.Punch.Address != "西湖门店" {
		t.Fatalf("device punch = %v %+v", ok, ev)
	}
	if err := mapping.Validate(ev); err != nil {
		t.Fatal(err)
	}
}
