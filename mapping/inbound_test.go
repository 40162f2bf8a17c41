package mapping

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const baseInbound = `input: json
template: tpl
timezone: Asia/Shanghai
templates:
  leave: [T-LEAVE]
  makeup: [T-MAKEUP]
leave_types: {年假: ANNUAL, 病假: SICK}
fields:
  type: {from: kind, transforms: [{map: {L: leave, M: makeup, O: overtime, X: vacation}}]}
  leave_type: form.leave
  status: {from: state, transforms: [{map: {"1": pending, "2": approved, "9": done}}]}
  start: {from: form.start, transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339}}]}
  end: {from: form.end, transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339}}]}
  duration_minutes: {from: form.hours, transforms: [{unit: {from: hours, to: minutes, round: half_up}}]}
  time: {from: form.at, transforms: [{format: {from: "2006-01-02 15:04", layout: RFC3339}}]}
  direction: {from: form.tip, transforms: [{contains: {上班: in, 下班: out}}]}
  reason: form.reason
`

func compileLayers(t *testing.T, over ...string) (*Inbound, error) {
	t.Helper()
	layers := []Layer{{File: "base.yaml", Data: []byte(baseInbound)}}
	for i, o := range over {
		layers = append(layers, Layer{File: "override" + string(rune('1'+i)) + ".yaml", Data: []byte(o)})
	}
	return CompileInbound(layers)
}

func TestInboundApply(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	in, err := compileLayers(t)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, template, payload string
		want                    ApprovalFields
		wantErr                 string
	}{
		{name: "template from the payload", payload: `{"tpl":"T-LEAVE","state":2,"form":{"leave":"年假","start":"2026-11-20 09:00","end":"2026-11-20 13:00","hours":4}}`,
			want: ApprovalFields{Kind: KindApproval, Type: "leave", LeaveType: "ANNUAL", LeaveName: "年假", Status: StatusApproved, Template: "T-LEAVE",
				Start: time.Date(2026, 11, 20, 9, 0, 0, 0, cst), End: time.Date(2026, 11, 20, 13, 0, 0, 0, cst), DurationMinutes: 240}},
		{name: "template given by the caller wins", template: "T-MAKEUP", payload: `{"tpl":"T-LEAVE","kind":"L","form":{"at":"2026-11-19 18:00","tip":"下班"}}`,
			want: ApprovalFields{Kind: KindMakeup, Template: "T-MAKEUP", Direction: DirOut, Time: time.Date(2026, 11, 19, 18, 0, 0, 0, cst)}},
		{name: "type from the form when the template is not listed", payload: `{"tpl":"T-OTHER","kind":"O","form":{"start":"2026-11-21 19:00","end":"2026-11-21 22:00"}}`,
			want: ApprovalFields{Kind: KindApproval, Type: "overtime", Start: time.Date(2026, 11, 21, 19, 0, 0, 0, cst), End: time.Date(2026, 11, 21, 22, 0, 0, 0, cst)}},
		{name: "unlisted leave name passes through", payload: `{"kind":"L","form":{"leave":"育儿假","start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`,
			want: ApprovalFields{Kind: KindApproval, Type: "leave", LeaveType: "育儿假", LeaveName: "育儿假", Start: time.Date(2026, 11, 20, 9, 0, 0, 0, cst), End: time.Date(2026, 11, 20, 10, 0, 0, 0, cst)}},
		{name: "makeup without a direction is unknown", payload: `{"kind":"M","form":{"at":"2026-11-19 09:00"}}`,
			want: ApprovalFields{Kind: KindMakeup, Direction: DirUnknown, Time: time.Date(2026, 11, 19, 9, 0, 0, 0, cst)}},
		{name: "not attendance", payload: `{"tpl":"T-EXPENSE","form":{"amount":3}}`, wantErr: "skip"},
		{name: "approval without start and end", payload: `{"kind":"O"}`,
			wantErr: "start: is required for a overtime approval; map it in fields.start; end: is required"},
		{name: "makeup without time", payload: `{"kind":"M"}`, wantErr: "time: is required for a make-up"},
		{name: "unknown type value", payload: `{"kind":"X","form":{"start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`,
			wantErr: `type="vacation": must be leave, overtime, trip, out, other or makeup`},
		{name: "unknown status value", payload: `{"kind":"O","state":9,"form":{"start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`,
			wantErr: `status="done": must be pending, approved, rejected or revoked`},
		{name: "bad form time", payload: `{"kind":"O","form":{"start":"tomorrow","end":"2026-11-20 10:00"}}`,
			wantErr: `start="tomorrow": format (line 12) is not a time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := in.Apply(tt.template, []byte(tt.payload))
			switch {
			case tt.wantErr == "skip":
				if !errors.Is(err, ErrSkip) {
					t.Fatalf("got %+v, %v; want ErrSkip", got, err)
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrMapping) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !got.Start.Equal(tt.want.Start) || !got.End.Equal(tt.want.End) || !got.Time.Equal(tt.want.Time):
				t.Fatalf("times %v %v %v, want %v %v %v", got.Start, got.End, got.Time, tt.want.Start, tt.want.End, tt.want.Time)
			default:
				got.Start, got.End, got.Time = tt.want.Start, tt.want.End, tt.want.Time
				if got != tt.want {
					t.Fatalf("got  %+v\nwant %+v", got, tt.want)
				}
			}
		})
	}
}

// TestInboundOverride: a later layer replaces fields, template lists and
// adds leave names; what it does not name stays.
func TestInboundOverride(t *testing.T) {
	in, err := compileLayers(t, `templates:
  overtime: [T-OT]
  leave: [T-LEAVE-2]
leave_types: {病假: SL, default: OTHER}
fields:
  leave_type: form.custom_leave
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.TemplateType("T-OT"); got != "overtime" {
		t.Errorf("T-OT is %q, want overtime", got)
	}
	if got := in.TemplateType("T-LEAVE"); got != "" {
		t.Errorf("T-LEAVE is %q; the override's leave list replaces the base's", got)
	}
	if got := in.Templates("makeup"); len(got) != 1 || got[0] != "T-MAKEUP" {
		t.Errorf("makeup templates %v, want the base's", got)
	}
	a, err := in.Apply("T-LEAVE-2", []byte(`{"form":{"custom_leave":"病假","leave":"年假","start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`))
	if err != nil || a.LeaveType != "SL" || a.LeaveName != "病假" {
		t.Fatalf("got %+v, %v; want the override's field and leave code", a, err)
	}
	a, err = in.Apply("T-LEAVE-2", []byte(`{"form":{"custom_leave":"年假","start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`))
	if err != nil || a.LeaveType != "ANNUAL" {
		t.Fatalf("got %+v, %v; want the base's entry, which the override kept", a, err)
	}
	a, err = in.Apply("T-LEAVE-2", []byte(`{"form":{"custom_leave":"育儿假","start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`))
	if err != nil || a.LeaveType != "OTHER" {
		t.Fatalf("got %+v, %v; want the override's default for a name neither lists", a, err)
	}
}

func TestInboundLoadErrors(t *testing.T) {
	tests := []struct {
		name, over, want string
	}{
		{"unknown field", "fields: {leave_code: x}\n", `override1.yaml:1: fields.leave_code: an inbound mapping fills only "type", "leave_type"`},
		{"unknown template type", "templates: {vacation: [x]}\n", "override1.yaml:1: templates.vacation: unknown key"},
		{"template with two meanings", "templates: {trip: [T-OT], out: [T-OT]}\n", `override1.yaml:1: templates.trip: "T-OT" is also listed under out`},
		{"other input", "input: punchbridge.event/v1\n", `override1.yaml:1: input "punchbridge.event/v1": the mapping it overrides reads "json"`},
		{"bad leave table", "leave_types: {年假: [A]}\n", "override1.yaml:1: leave_types.年假: want the HR leave code"},
		{"bad transform in the override", "fields:\n  start: {from: a, transforms: [{format: {layout: YYYY}}]}\n", `override1.yaml:2: fields.start: format: layout "YYYY" is not a Go layout`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileLayers(t, tt.over)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestIsInbound(t *testing.T) {
	if !IsInbound([]byte(baseInbound)) || IsInbound([]byte("input: json\nfields: {a: b}\n")) || IsInbound([]byte("{")) {
		t.Fatal("IsInbound misjudges")
	}
}

func TestSettingsLayer(t *testing.T) {
	layers := []Layer{
		{File: "base.yaml", Data: []byte(baseInbound)},
		SettingsLayer(`connector "dt"`, map[string][]string{"trip": {"T-TRIP"}, "leave": nil}, map[string]string{"育儿假": "CCL"}),
	}
	in, err := CompileInbound(layers)
	if err != nil {
		t.Fatal(err)
	}
	if in.TemplateType("T-TRIP") != "trip" || in.TemplateType("T-LEAVE") != "leave" {
		t.Fatalf("templates: trip %q, leave %q", in.TemplateType("T-TRIP"), in.TemplateType("T-LEAVE"))
	}
	a, err := in.Apply("T-LEAVE", []byte(`{"form":{"leave":"育儿假","start":"2026-11-20 09:00","end":"2026-11-20 10:00"}}`))
	if err != nil || a.LeaveType != "CCL" {
		t.Fatalf("got %+v, %v", a, err)
	}
	_, err = CompileInbound(append(layers, SettingsLayer(`connector "dt"`, map[string][]string{"holiday": {"X"}}, nil)))
	if err == nil || !strings.Contains(err.Error(), `connector "dt":2: templates.holiday: unknown key`) {
		t.Fatalf("error %v, want one naming the connector", err)
	}
}
