package personiotest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/punchbridge/punchbridge/connectors/hrhttp/personiotest"
)

func TestPeriods(t *testing.T) {
	api := personiotest.NewServer("tok")
	defer api.Close()
	api.AddPerson("12345")
	period := func(start, end string) string {
		return `{"person":{"id":"12345"},"type":"WORK","start":{"date_time":"` + start + `"},"end":{"date_time":"` + end + `"},"comment":"x"}`
	}
	tests := []struct {
		name, auth, body string
		wantStatus       int
		wantText         string
	}{
		{"created", "Bearer tok", period("2026-11-20T09:02:11", "2026-11-20T18:05:40"), 201, `"id":"ap-000001"`},
		{"the same period again overlaps", "Bearer tok", period("2026-11-20T09:02:11", "2026-11-20T18:05:40"), 409, "Existing overlapping attendances periods"},
		{"a corrected period overlaps too", "Bearer tok", period("2026-11-20T08:55:00", "2026-11-20T18:05:40"), 409, "overlapping"},
		{"next day", "Bearer tok", period("2026-11-21T09:00:00", "2026-11-21T18:00:00"), 201, "ap-000002"},
		{"offset not allowed", "Bearer tok", period("2026-11-22T09:00:00+08:00", "2026-11-22T18:00:00"), 422, "without offset"},
		{"end before start", "Bearer tok", period("2026-11-22T18:00:00", "2026-11-22T09:00:00"), 422, "before start"},
		{"unknown person", "Bearer tok", strings.Replace(period("2026-11-22T09:00:00", "2026-11-22T18:00:00"), "12345", "999", 1), 422, "person 999 does not exist"},
		{"unknown field", "Bearer tok", `{"person":{"id":"12345"},"type":"WORK","start":{"date_time":"2026-11-22T09:00:00"},"hours":8}`, 400, "unknown field"},
		{"bad type", "Bearer tok", `{"person":{"id":"12345"},"type":"LEAVE","start":{"date_time":"2026-11-22T09:00:00"}}`, 422, "must be WORK or BREAK"},
		{"no token", "", period("2026-11-23T09:00:00", "2026-11-23T18:00:00"), 401, "invalid access token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), "POST", api.URL(), strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantText) {
				t.Fatalf("answer %d %s, want %d with %q", resp.StatusCode, b, tt.wantStatus, tt.wantText)
			}
		})
	}
	if got := api.Periods(); len(got) != 2 || got[0].Comment != "x" || got[1].Start.Day() != 21 {
		t.Fatalf("periods %+v", got)
	}
	if api.Requests() != len(tests) {
		t.Fatalf("requests %d", api.Requests())
	}
}
