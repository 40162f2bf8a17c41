package dingtalktest

import (
	"reflect"
	"testing"
	"time"
)

// TestRecordsKeepEveryField: a record packed and read back is the record,
// zero times and times in any zone included, and so are the records a
// server was given, through Company.
func TestRecordsKeepEveryField(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 9, 1, 2, 345_000_000, Shanghai)
	full := Record{ID: 7, UserID: "u1", CheckTime: at, BaseCheckTime: at.Add(-time.Minute), WorkDate: at.Truncate(24 * time.Hour),
		CheckType: "OnDuty", TimeResult: "Late", LocationResult: "Outside", SourceType: "USER", LocationMethod: "WIFI",
		IsLegal: "N", InvalidRecordType: "Security", InvalidRecordMsg: "需要二次确认", HasLocation: true,
		Lat: 30.27941, Lng: 120.0237, Accuracy: 35, Address: "浙江省杭州市", DeviceID: "dev-1", DeviceSN: "SN1",
		SSID: "Office-5G", MacAddr: "00:27:19:48:58:4c", GroupID: 685935028, PlanID: 144872188721}
	recs := []Record{
		full,
		{ID: 8, UserID: "u2", CheckTime: at.UTC()}, // UTC, every other field empty
		{ID: 9, UserID: "u1", CheckTime: at.In(ny), WorkDate: time.Date(2026, 11, 20, 0, 0, 0, 1, time.UTC)},
		{}, // the zero record
	}
	rs := newRecords()
	for _, r := range recs {
		rs.add(r)
	}
	for i, want := range recs {
		if got := rs.at(i); !reflect.DeepEqual(got, want) {
			t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got, want)
		}
	}
	s, _ := newTestServer(t, WithCompany(Company{CorpID: "dingx", Depts: []Dept{{ID: RootDept}}, Records: recs}))
	if got := s.Company().Records; !reflect.DeepEqual(got, recs) {
		t.Errorf("Company().Records = %+v, want the records given", got)
	}
}
