package wecom

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// This file builds the connector's inbound mapping: the built-in WeCom
// mapping (preset:wecom-approval), then the connector's leave_types:
// setting, then its inbound: override. The mapping reads an approval's
// facts from its form; the connector keeps what the form cannot say (the
// event ids, the time of the decision, the unit rule of approval.go).

// templateTypes are the approval types an inbound mapping's templates:
// table lists template ids under.
var templateTypes = []string{"leave", "overtime", "trip", "out", "makeup"}

// compileInbound compiles the connector's inbound mapping. file is the
// config file the entry was read from and entry its node (""/nil for a
// Config built in code): a relative inbound: path is read from the file's
// directory, and problems are config errors at their lines.
func compileInbound(name string, cfg Config, file string, entry *yaml.Node) (*mapping.Inbound, error) {
	if file == "" {
		file = "(config)" // its directory is the working directory, as for ""
	}
	settings := mapping.SettingsLayer(fmt.Sprintf("connector %q", name), nil, cfg.LeaveTypes)
	override := cfg.Inbound.Layers(file)
	in, err := presets.Inbound(Platform, append([]mapping.Layer{settings}, override...)...)
	if err != nil {
		return nil, presets.InboundErrors(err, override, file, config.LineOf(entry, "inbound"))
	}
	return in, nil
}

// pinnedTemplates lists the template ids the inbound mapping gives a
// meaning (within approval_templates, when that is set), sorted. A pull
// lists their approvals by template as well as by record_type, because
// a form of the company's own (without a 假勤 control) has no attendance
// record_type.
func (c *Connector) pinnedTemplates() []string {
	var out []string
	for _, typ := range templateTypes {
		for _, id := range c.cfg.inbound.Templates(typ) {
			if len(c.cfg.ApprovalTemplates) == 0 || slices.Contains(c.cfg.ApprovalTemplates, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
