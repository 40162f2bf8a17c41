package main

import (
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/csvfile"
	"github.com/punchbridge/punchbridge/connectors/dingtalk"
	"github.com/punchbridge/punchbridge/connectors/hrhttp"
	"github.com/punchbridge/punchbridge/connectors/wecom"
)

// newRegistry lists every connector and sink type this binary can build.
// It is the one place a new type is wired in.
func newRegistry() *connectors.Registry {
	r := connectors.NewRegistry()
	r.AddConnector("dingtalk", dingtalk.New)
	r.AddConnector("wecom", wecom.New)
	r.AddSink("hrhttp", hrhttp.New)
	r.AddSink(csvfile.Type, csvfile.New)
	return r
}
