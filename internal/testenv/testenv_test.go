package testenv

import (
	"fmt"
	"strings"
	"testing"
)

// recorder stands in for the test a helper is given: it records a skip or
// a failure instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) { r.skipped = fmt.Sprintf(format, args...) }

func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...) }

func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestServiceURL(t *testing.T) {
	helpers := []struct {
		name string
		get  func(testing.TB) string
		env  string
	}{
		{"PostgresURL", PostgresURL, PostgresVar},
		{"RedisURL", RedisURL, RedisVar},
	}
	tests := []struct {
		name, url, require string
		want, skip, fail   string // the URL returned, and substrings of the messages
	}{
		{name: "set", url: "scheme://service:1/db", want: "scheme://service:1/db"},
		{name: "set while required", url: "scheme://service:1/db", require: "1", want: "scheme://service:1/db"},
		{name: "unset skips", skip: "set %s"},
		{name: "unset skips when not required", require: "0", skip: "set %s"},
		{name: "unset fails when required", require: "1", fail: "%s is not set"},
		{name: "a bad requirement fails", require: "yes please", fail: RequireVar + `="yes please" is not a boolean`},
	}
	for _, h := range helpers {
		for _, tc := range tests {
			t.Run(h.name+"/"+tc.name, func(t *testing.T) {
				t.Setenv(h.env, tc.url)
				t.Setenv(RequireVar, tc.require)
				r := &recorder{TB: t}
				if got := h.get(r); got != tc.want {
					t.Errorf("URL = %q, want %q", got, tc.want)
				}
				check := func(what, got, want string) {
					if want = strings.ReplaceAll(want, "%s", h.env); want == "" && got != "" || !strings.Contains(got, want) {
						t.Errorf("%s = %q, want it to contain %q", what, got, want)
					}
				}
				check("skip message", r.skipped, tc.skip)
				check("failure", r.failed, tc.fail)
			})
		}
	}
}
