package dingtalk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// This file reads an approval's facts from its form through the
// connector's inbound mapping: the built-in DingTalk mapping
// (preset:dingtalk-approval), then the connector's approvals: and
// leave_types: settings, then its inbound: override. What the form says
// is the mapping's business; what the instance's state means (running,
// completed, revoked by an attached request) stays the connector's
// (approvalsync.go).

// templateTypes are the approval types an inbound mapping's templates:
// table lists process codes under.
var templateTypes = []string{"leave", "overtime", "trip", "out", "makeup"}

// formReader reads approval and make-up forms through the compiled
// inbound mapping. It is immutable and safe for concurrent use.
type formReader struct {
	in *mapping.Inbound
}

// read maps an instance's form. code is the instance's process code, or
// "" when the event that named the instance did not give it.
func (f *formReader) read(code string, inst []byte) (mapping.ApprovalFields, error) {
	return f.in.Apply(code, inst)
}

// codes lists every process code the mapping gives a meaning, with it:
// the codes a pull lists instances of.
func (f *formReader) codes() map[string]string {
	out := map[string]string{}
	for _, typ := range templateTypes {
		for _, code := range f.in.Templates(typ) {
			out[code] = typ
		}
	}
	return out
}

// compileInbound compiles the connector's inbound mapping. file is the
// config file the entry was read from and entry its node (""/nil for a
// Config built in code): a relative inbound: path is read from the file's
// directory, and problems are config errors at their lines.
func compileInbound(name string, cfg Config, file string, entry *yaml.Node) (*mapping.Inbound, error) {
	if file == "" {
		file = "(config)" // its directory is the working directory, as for ""
	}
	override := cfg.Inbound.Layers(file)
	if len(override) > 0 {
		// A process code under approvals: and under another type in the
		// override would be refused by the merge, at a line of neither;
		// say where both are instead.
		alone, err := presets.Inbound(Platform, override...)
		if err != nil {
			return nil, presets.InboundErrors(err, override, file, config.LineOf(entry, "inbound"))
		}
		var errs config.Errors
		for _, typ := range templateTypes {
			for i, code := range cfg.Approvals.byType()[typ] {
				if other := alone.TemplateType(code); other != "" && other != typ {
					path := fmt.Sprintf("approvals.%s[%d]", typ, i)
					errs = append(errs, &config.Error{File: file, Line: config.LineOf(entry, path),
						Msg: fmt.Sprintf("%s: %q is listed under templates.%s in inbound:; a template has one meaning, so list it in one place", path, code, other)})
				}
			}
		}
		if len(errs) > 0 {
			return nil, errs
		}
	}
	settings := mapping.SettingsLayer(fmt.Sprintf("connector %q", name), cfg.Approvals.byType(), cfg.LeaveTypes)
	in, err := presets.Inbound(Platform, append([]mapping.Layer{settings}, override...)...)
	if err != nil {
		return nil, presets.InboundErrors(err, override, file, config.LineOf(entry, "inbound"))
	}
	return in, nil
}

// instanceTime reads createTime/finishTime: the v1.0 API writes ISO-like
// strings such as 2022-08-31T11:52Z (read with their zone), the old one
// "2006-01-02 15:04:05" in Asia/Shanghai or milliseconds. Unreadable text
// is the zero time.
func instanceTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms > 1e11 {
		return time.UnixMilli(ms).In(shanghai)
	}
	for _, l := range instanceLayouts {
		if t, err := time.ParseInLocation(l, s, shanghai); err == nil {
			return t
		}
	}
	return time.Time{}
}

var instanceLayouts = []string{"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly}
