package coord

import (
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	tick := time.Date(2024, 5, 6, 2, 0, 0, 0, time.FixedZone("CST", 8*3600))
	deliv := DeliveryKey{Sink: "hr-main", EmployeeID: "E1001", Date: "2024-05-06", Shift: "day", Version: 3}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"default prefix", Keys{}.Lock("nightly"), "pb:lock:nightly"},
		{"dedupe", NewKeys("pb:").Dedupe("dingtalk/ding5f3a/punch/66301245789", "9f2c"), "pb:dedupe:dingtalk/ding5f3a/punch/66301245789:9f2c"},
		{"deliver", NewKeys("").Deliver(deliv), "pb:deliver:hr-main:E1001:2024-05-06:day:v3"},
		{"lock under prefix", NewKeys("acme:pb:").Lock("push"), "acme:pb:lock:push"},
		{"token", NewKeys("").Token("dingtalk/ding5f3a/app1"), "pb:token:dingtalk:ding5f3a:app1"},
		{"token lock", NewKeys("").TokenLock("wecom/ww01/1000002"), "pb:tokenlock:wecom:ww01:1000002"},
		{"tick in unix seconds", NewKeys("").Tick("nightly", tick), "pb:tick:nightly:1714932000"},
		{"colon escaped", NewKeys("").Lock("a:b"), "pb:lock:a%3Ab"},
		{"percent escaped", NewKeys("").Lock("a%3Ab"), "pb:lock:a%253Ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("key = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// Inputs that differ must never share a key, whatever separators they hold.
func TestKeysAreOneToOne(t *testing.T) {
	k := NewKeys("")
	pairs := []struct{ a, b string }{
		{k.Dedupe("a:b", "c"), k.Dedupe("a", "b:c")},
		{k.Token("dingtalk/a:b/c"), k.Token("dingtalk/a/b:c")},
		{k.Token("dingtalk/a/b"), k.Token("dingtalk/a:b")},
		{k.Lock("x%3Ay"), k.Lock("x:y")},
		{
			k.Deliver(DeliveryKey{Sink: "s", EmployeeID: "E1:2024-05-06", Date: "x", Version: 1}),
			k.Deliver(DeliveryKey{Sink: "s", EmployeeID: "E1", Date: "2024-05-06:x", Version: 1}),
		},
	}
	for _, p := range pairs {
		if p.a == p.b {
			t.Errorf("two inputs share the key %q", p.a)
		}
	}
}
