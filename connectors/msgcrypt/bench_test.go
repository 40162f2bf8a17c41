package msgcrypt

import (
	"strings"
	"testing"
)

// benchEvent is a ~500-byte decrypted DingTalk attendance_check_record
// push, the shape the receivers open most often (platform API reference A6).
var benchEvent = []byte(`{"EventType":"attendance_check_record","EventTime":"1700000000000","CorpId":"ding5f3a2c9e8b7d6a10",` +
	`"BizId":"attendance_check_record_1700000000000","eventId":"5f9c0e3a7b2d4c1e8f6a9b0c1d2e3f40","DataList":[{"userId":"manager4220",` +
	`"corpId":"ding5f3a2c9e8b7d6a10","checkTime":1700000000000,"groupId":"4C63A1B2","bizId":"ding5f3a2c9e8b7d6a10_manager4220",` +
	`"locationMethod":"MAP","locationResult":"Normal","address":"Building 3, 88 Example Road","latitude":"30.27","longitude":"120.15",` +
	`"deviceSN":"","checkByUser":true}]}`)

func benchCipher(b *testing.B) *Cipher {
	b.Helper()
	c, err := New("123456", "1234567890123456789012345678901234567890123", "dingsnotzck6pm5veliw")
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkOpen is the receive hot path: verify and decrypt one event.
func BenchmarkOpen(b *testing.B) {
	c := benchCipher(b)
	s, err := c.Seal(benchEvent, "1700000000000", "A7Co0cJLMzIDtMMI")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Open(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal is the reply path: encrypt and sign one message.
func BenchmarkSeal(b *testing.B) {
	c := benchCipher(b)
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal(benchEvent, "1700000000000", "A7Co0cJLMzIDtMMI"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchEventSize(t *testing.T) {
	if n := len(benchEvent); n < 450 || n > 550 || !strings.HasPrefix(string(benchEvent), "{") {
		t.Fatalf("benchEvent is %d bytes, want about 500", n)
	}
}
