package dingtalktest

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// wireRecord is one record of a listRecord answer, as encoding/json writes
// it: what appendWire must write. Numeric fields are any
// so that each record can carry them as numbers or as strings; nil and ""
// fields are left out, as the platform leaves out what does not apply.
type wireRecord struct {
	ID                any    `json:"id"`
	UserID            string `json:"userId"`
	CorpID            string `json:"corpId"`
	WorkDate          any    `json:"workDate,omitempty"`
	CheckType         string `json:"checkType,omitempty"`
	TimeResult        string `json:"timeResult,omitempty"`
	LocationResult    string `json:"locationResult,omitempty"`
	SourceType        string `json:"sourceType,omitempty"`
	LocationMethod    string `json:"locationMethod,omitempty"`
	UserCheckTime     any    `json:"userCheckTime"`
	BaseCheckTime     any    `json:"baseCheckTime,omitempty"`
	PlanCheckTime     any    `json:"planCheckTime,omitempty"`
	GroupID           any    `json:"groupId,omitempty"`
	PlanID            any    `json:"planId,omitempty"`
	IsLegal           string `json:"isLegal,omitempty"`
	InvalidRecordType string `json:"invalidRecordType,omitempty"`
	InvalidRecordMsg  string `json:"invalidRecordMsg,omitempty"`
	UserLatitude      any    `json:"userLatitude,omitempty"`
	UserLongitude     any    `json:"userLongitude,omitempty"`
	UserAccuracy      any    `json:"userAccuracy,omitempty"`
	UserAddress       string `json:"userAddress,omitempty"`
	DeviceID          string `json:"deviceId,omitempty"`
	DeviceSN          string `json:"deviceSN,omitempty"`
	UserSSID          string `json:"userSsid,omitempty"`
	UserMacAddr       string `json:"userMacAddr,omitempty"`
	BaseLatitude      any    `json:"baseLatitude,omitempty"`
	BaseLongitude     any    `json:"baseLongitude,omitempty"`
	BaseAddress       string `json:"baseAddress,omitempty"`
	GmtCreate         any    `json:"gmtCreate"`
	GmtModified       any    `json:"gmtModified"`
}

// wire renders r as listRecord does. Records with an odd id carry their
// numbers as JSON strings (the documented type), the others as JSON numbers
// (what the platform's sample shows).
func (r Record) wire(corpID string) wireRecord {
	asString := r.ID%2 == 1
	num := func(v int64) any {
		if asString {
			return strconv.FormatInt(v, 10)
		}
		return v
	}
	flt := func(v float64) any {
		if asString {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return v
	}
	ms := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return num(t.UnixMilli())
	}
	opt := func(v int64) any {
		if v == 0 {
			return nil
		}
		return num(v)
	}
	w := wireRecord{
		ID:                num(r.ID),
		UserID:            r.UserID,
		CorpID:            corpID,
		WorkDate:          ms(r.WorkDate),
		CheckType:         r.CheckType,
		TimeResult:        r.TimeResult,
		LocationResult:    r.LocationResult,
		SourceType:        r.SourceType,
		LocationMethod:    r.LocationMethod,
		UserCheckTime:     ms(r.CheckTime),
		BaseCheckTime:     ms(r.BaseCheckTime),
		PlanCheckTime:     ms(r.BaseCheckTime),
		GroupID:           opt(r.GroupID),
		PlanID:            opt(r.PlanID),
		IsLegal:           r.IsLegal,
		InvalidRecordType: r.InvalidRecordType,
		InvalidRecordMsg:  r.InvalidRecordMsg,
		UserAddress:       r.Address,
		DeviceID:          r.DeviceID,
		DeviceSN:          r.DeviceSN,
		UserSSID:          r.SSID,
		UserMacAddr:       r.MacAddr,
		GmtCreate:         ms(r.CheckTime),
		GmtModified:       ms(r.CheckTime),
	}
	if r.HasLocation {
		w.UserLatitude, w.UserLongitude, w.UserAccuracy = flt(r.Lat), flt(r.Lng), flt(r.Accuracy)
		w.BaseLatitude, w.BaseLongitude = flt(officeLat), flt(officeLng)
		w.BaseAddress = officeAddress
	}
	return w
}

// TestAppendWireIsWhatJSONWrites holds appendWire to json.Marshal of the
// same record, over a generated company and records that need escapes,
// leave fields out or carry odd numbers.
func TestAppendWireIsWhatJSONWrites(t *testing.T) {
	company := GenerateCompany(3, 40, time.Date(2026, 11, 2, 0, 0, 0, 0, Shanghai), 10)
	recs := company.Records
	at := time.Date(2026, 11, 20, 8, 59, 3, 0, Shanghai)
	recs = append(recs,
		Record{ID: 1},
		Record{ID: 2, UserID: "u<&>\"\\", CheckTime: at, Address: "line\nbreak\u2028", DeviceID: "bad \xff utf-8"},
		Record{ID: 3, UserID: "u", CheckTime: at, WorkDate: at, BaseCheckTime: at, GroupID: -5, PlanID: 1 << 62, HasLocation: true,
			Lat: -1.5e-7, Lng: 1e21, Accuracy: 0},
		Record{ID: 4, UserID: "u", CheckTime: at, HasLocation: true, Lat: 90, Lng: -180, Accuracy: 123.456},
		Record{ID: 5, UserID: "u", CheckTime: at, HasLocation: true, Lat: 1e-7, Lng: 0.1, Accuracy: 5e20},
	)
	for _, r := range recs {
		want, err := json.Marshal(r.wire("corp"))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendWire(nil, "corp"); !bytes.Equal(got, want) {
			t.Fatalf("record %d:\n got %s\nwant %s", r.ID, got, want)
		}
	}
}

// BenchmarkListRecordAnswer encodes the 500 records of a listRecord
// answer (50 users over a week) as encoding/json did and as appendWire does.
func BenchmarkListRecordAnswer(b *testing.B) {
	company := GenerateCompany(1, 50, time.Date(2026, 11, 2, 0, 0, 0, 0, Shanghai), 5)
	recs := company.Records
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := make([]wireRecord, 0, len(recs))
			for _, r := range recs {
				out = append(out, r.wire("corp"))
			}
			if _, err := json.Marshal(map[string]any{"errcode": 0, "errmsg": "ok", "recordresult": out}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("appendWire", func(b *testing.B) {
		b.ReportAllocs()
		var out []byte // reused, as the server's pool of answers does
		for b.Loop() {
			out = append(out[:0], `{"errcode":0,"errmsg":"ok","recordresult":[`...)
			for i, r := range recs {
				if i > 0 {
					out = append(out, ',')
				}
				out = r.appendWire(out, "corp")
			}
			out = append(out, "]}"...)
		}
	})
}
