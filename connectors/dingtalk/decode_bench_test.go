package dingtalk

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeListRecord decodes one attendance/listRecord answer of
// 500 punches, a pull's answer for 50 users over a week, as the fake
// platform sends them: the connector's share of a pull's CPU per answer.
func BenchmarkDecodeListRecord(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"errcode":0,"errmsg":"ok","recordresult":[`)
	for i := range 500 {
		if i > 0 {
			sb.WriteByte(',')
		}
		ms := 1790124755594 + int64(i)*60000
		fmt.Fprintf(&sb, `{"id":%d,"userId":"user%05d","corpId":"dingfake0corp","workDate":1790092800000,"checkType":"OnDuty",`+
			`"timeResult":"Normal","locationResult":"Normal","sourceType":"USER","locationMethod":"WIFI","userCheckTime":%d,`+
			`"baseCheckTime":1790125200000,"planCheckTime":1790125200000,"groupId":685935028,"planId":144872188766,"isLegal":"Y",`+
			`"userLatitude":30.285031207201964,"userLongitude":120.01702822249983,"userAccuracy":32,"userAddress":"浙江省杭州市余杭区文一西路",`+
			`"deviceId":"c4a9dd7812","userSsid":"Office-5G","userMacAddr":"00:27:19:48:58:4c","baseLatitude":30.285413,`+
			`"baseLongitude":120.017139,"baseAddress":"浙江省杭州市余杭区文一西路","gmtCreate":%d,"gmtModified":%d}`,
			43000000001+i, i/10, ms, ms, ms)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var l listRecordResponse
		if err := l.decodeRaw(body); err != nil {
			b.Fatal(err)
		}
		if len(l.RecordResult) != 500 {
			b.Fatalf("%d records, want 500", len(l.RecordResult))
		}
	}
}
