package connectors

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	r := NewRedactor("access_token", "appsecret")
	for _, tc := range []struct{ in, want string }{
		{"GET https://oapi.dingtalk.com/attendance/listRecord?access_token=abc123&x=1", "GET https://oapi.dingtalk.com/attendance/listRecord?access_token=REDACTED&x=1"},
		{"gettoken?appkey=k&appsecret=s3cr3t", "gettoken?appkey=k&appsecret=REDACTED"},
		{"ACCESS_TOKEN=abc", "ACCESS_TOKEN=REDACTED"},
		{"next=https%3A%2F%2Fx%3Faccess_token%3Dabc%26y%3D2", "next=https%3A%2F%2Fx%3Faccess_token%3DREDACTED%26y%3D2"},
		{`{"access_token":"abc"}`, `{"access_token":"abc"}`}, // JSON is not a query: the connectors never log token bodies
		{"no secrets here", "no secrets here"},
	} {
		if got := r.String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	ue := &url.Error{Op: "Get", URL: "https://h/p?access_token=abc", Err: errors.New("timeout")}
	err := r.Error(ue)
	if strings.Contains(err.Error(), "abc") || strings.Contains(ue.URL, "abc") || !errors.Is(err, ue.Err) {
		t.Fatalf("Error: %q (url %q); want the token gone and the cause reachable", err, ue.URL)
	}
	if r.Error(nil) != nil {
		t.Fatal("Error(nil) != nil")
	}
}
