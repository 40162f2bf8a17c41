package dingtalk

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

func TestPunchMapping(t *testing.T) {
	received := time.Date(2026, 3, 3, 0, 0, 0, 0, shanghai)
	for _, tc := range []struct {
		name string
		json string
		want mapping.Punch
	}{
		{"phone on time", `{"checkType":"OnDuty","timeResult":"Normal","locationResult":"Normal","sourceType":"USER","locationMethod":"MAP","isLegal":"Y"}`,
			mapping.Punch{Direction: "in", Method: "app", PlatformResult: "normal"}},
		{"phone by wifi", `{"checkType":"OnDuty","timeResult":"Normal","locationResult":"Normal","sourceType":"USER","locationMethod":"WIFI","userSsid":"Office","userMacAddr":"00:27:19:48:58:4c"}`,
			mapping.Punch{Direction: "in", Method: "wifi", PlatformResult: "normal", WifiSSID: "Office", WifiBSSID: "00:27:19:48:58:4c"}},
		{"late", `{"checkType":"OnDuty","timeResult":"Late","locationResult":"Normal","sourceType":"USER","isLegal":"N"}`,
			mapping.Punch{Direction: "in", Method: "app", PlatformResult: "late"}},
		{"seriously late and outside", `{"checkType":"OnDuty","timeResult":"SeriousLate","locationResult":"Outside","sourceType":"USER","isLegal":"N"}`,
			mapping.Punch{Direction: "in", Method: "app", Field: true, PlatformResult: "serious_late", Anomalies: []string{"outside"}}},
		{"field punch on time", `{"checkType":"OffDuty","timeResult":"Normal","locationResult":"Outside","sourceType":"USER","isLegal":"N"}`,
			mapping.Punch{Direction: "out", Method: "app", Field: true, PlatformResult: "outside"}},
		{"early, machine", `{"checkType":"OffDuty","timeResult":"Early","locationResult":"Normal","sourceType":"ATM","deviceSN":"AT000001","userAddress":"前台考勤机"}`,
			mapping.Punch{Direction: "out", Method: "device", PlatformResult: "early", DeviceID: "AT000001", Address: "前台考勤机"}},
		{"absent", `{"checkType":"OnDuty","timeResult":"Absenteeism","sourceType":"DING_ATM"}`,
			mapping.Punch{Direction: "in", Method: "device", PlatformResult: "absent"}},
		{"not signed", `{"checkType":"OffDuty","timeResult":"NotSigned","locationResult":"NotSigned","sourceType":"SYSTEM"}`,
			mapping.Punch{Direction: "out", Method: "system", PlatformResult: "not_signed"}},
		{"beacon", `{"checkType":"OnDuty","timeResult":"Normal","sourceType":"BEACON"}`,
			mapping.Punch{Direction: "in", Method: "beacon", PlatformResult: "normal"}},
		{"approved make-up", `{"checkType":"OnDuty","timeResult":"Normal","sourceType":"APPROVE"}`,
			mapping.Punch{Direction: "in", Method: "makeup", PlatformResult: "normal"}},
		{"admin change", `{"checkType":"OffDuty","timeResult":"Normal","sourceType":"BOSS"}`,
			mapping.Punch{Direction: "out", Method: "system", PlatformResult: "normal"}},
		{"auto punch", `{"checkType":"OffDuty","timeResult":"Normal","sourceType":"AUTO_CHECK"}`,
			mapping.Punch{Direction: "out", Method: "system", PlatformResult: "normal"}},
		{"invalid record without results", `{"sourceType":"USER","isLegal":"N","invalidRecordType":"Other","invalidRecordMsg":"需要二次确认","deviceId":"67da0f"}`,
			mapping.Punch{Direction: "unknown", Method: "app", DeviceID: "67da0f", Anomalies: []string{"invalid_record:other"}}},
		{"security flag on a late punch", `{"checkType":"OnDuty","timeResult":"Late","sourceType":"USER","isLegal":false,"invalidRecordType":"Security"}`,
			mapping.Punch{Direction: "in", Method: "app", PlatformResult: "late", Anomalies: []string{"invalid_record:security"}}},
		{"not legal, results normal", `{"checkType":"OnDuty","timeResult":"Normal","locationResult":"Normal","sourceType":"USER","isLegal":"N"}`,
			mapping.Punch{Direction: "in", Method: "app", PlatformResult: "normal", Anomalies: []string{"not_legal"}}},
		{"unknown enums", `{"checkType":"Middle","timeResult":"Strange","sourceType":"NEW_KIND"}`,
			mapping.Punch{Direction: "unknown", Method: "app", Anomalies: []string{"unknown_time_result:Strange", "unknown_source_type:NEW_KIND"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r punchRecord
			raw := `{"id":1,"userId":"manager4220","userCheckTime":1599441505000,` + tc.json[1:]
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				t.Fatal(err)
			}
			ev, ok := r.event("dt", "dingx", received)
			if !ok {
				t.Fatal("record not mapped")
			}
			if !reflect.DeepEqual(*ev.Punch, tc.want) {
				t.Errorf("punch = %+v\nwant    %+v", *ev.Punch, tc.want)
			}
			if ev.ID != "dingtalk/dingx/punch/manager4220-1599441505000" {
				t.Errorf("id = %s", ev.ID)
			}
			if err := mapping.Validate(ev); err != nil {
				t.Errorf("invalid event: %v", err)
			}
		})
	}
}

// TestPunchFromPlatformSample maps the platform's own listRecord sample
// (numbers as JSON numbers) and the same record with its numbers as strings.
func TestPunchFromPlatformSample(t *testing.T) {
	for _, raw := range []string{
		`{"gmtModified":1599454972000,"baseCheckTime":1599442200000,"groupId":685935028,"timeResult":"Normal","deviceId":"67da0f1a2b","approveId":2376620852,"userAccuracy":65,"classId":677995086,"workDate":1599408000000,"bizId":"E171DCCE5F3A","planId":144872188720,"id":43047156750,"checkType":"OnDuty","planCheckTime":1599442200000,"corpId":"dinge8a1c2d5384","locationResult":"Outside","userLongitude":120.017139,"isLegal":"N","procInstId":"59f77e82-4c1d","gmtCreate":1599441505000,"userId":"manager4220","outsideRemark":"拜访客户","userAddress":"浙江省杭州市","userLatitude":30.285413,"sourceType":"USER","userCheckTime":1599441505000,"locationMethod":"MAP"}`,
		`{"baseCheckTime":"1599442200000","timeResult":"Normal","deviceId":"67da0f1a2b","userAccuracy":"65","id":"43047156750","checkType":"OnDuty","locationResult":"Outside","userLongitude":"120.017139","isLegal":"N","userId":"manager4220","userAddress":"浙江省杭州市","userLatitude":"30.285413","sourceType":"USER","userCheckTime":"1599441505000","locationMethod":"MAP"}`,
	} {
		var r punchRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		ev, ok := r.event("dt", "dinge8a1c2d5384", time.Now())
		if !ok {
			t.Fatal("not mapped")
		}
		lat, lng, acc := 30.285413, 120.017139, 65.0
		sched := time.UnixMilli(1599442200000).In(shanghai)
		want := mapping.Punch{Direction: "in", Method: "app", Field: true, Lat: &lat, Lng: &lng, AccuracyM: &acc,
			Address: "浙江省杭州市", DeviceID: "67da0f1a2b", PlatformResult: "outside", ScheduledAt: &sched}
		if !reflect.DeepEqual(*ev.Punch, want) {
			t.Errorf("punch = %+v\nwant    %+v", *ev.Punch, want)
		}
		if got := ev.Time.Format(time.RFC3339); got != "2020-09-07T09:18:25+08:00" {
			t.Errorf("time = %s", got)
		}
	}
}

func TestRecordWithoutTimeIsNotMapped(t *testing.T) {
	for _, raw := range []string{`{"userId":"u1"}`, `{"userCheckTime":1599441505000}`} {
		var r punchRecord
		if err := json.Unmarshal([]byte(raw), &r); err != nil {
			t.Fatal(err)
		}
		if _, ok := r.event("dt", "c", time.Now()); ok {
			t.Errorf("%s mapped", raw)
		}
	}
	var r punchRecord
	if err := json.Unmarshal([]byte(`{"userId":"u1","checkTime":"1599441505000"}`), &r); err != nil {
		t.Fatal(err)
	}
	if ev, ok := r.event("dt", "c", time.Now()); !ok || ev.Time.UnixMilli() != 1599441505000 {
		t.Errorf("checkTime fallback not used: %v %v", ev.Time, ok)
	}
}
