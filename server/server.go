// Package server is Punchbridge's HTTP face: webhook routes that hand
// platform callbacks to their connector's receiver, and the health
// endpoints. The tenant of a webhook is chosen by its path
// (/hooks/<platform>/<connector>), never by trying each connector's keys.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/punchbridge/punchbridge/connectors"
)

// Options configure the HTTP handler.
type Options struct {
	// Receivers are the connectors that accept webhooks.
	Receivers []connectors.Receiver
	// Ingest stores a webhook's events durably; a receiver acknowledges the
	// platform only after it returns nil.
	Ingest connectors.EmitFunc
	// Ready reports whether the ledger (and Redis, when configured) can be
	// reached; nil means always ready.
	Ready func(ctx context.Context) error
	Log   *slog.Logger
}

// New returns the HTTP handler of `punchbridge serve`.
func New(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	r := gin.New()
	r.Use(gin.Recovery())

	hooks := map[string]http.Handler{}
	for _, rc := range o.Receivers {
		hooks[rc.Platform()+"/"+rc.Name()] = rc.Handler(o.Ingest)
	}
	hook := func(c *gin.Context) {
		h, ok := hooks[c.Param("platform")+"/"+c.Param("connector")]
		if !ok {
			c.String(http.StatusNotFound, "no %s connector named %q accepts webhooks\n", c.Param("platform"), c.Param("connector"))
			return
		}
		h.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/hooks/:platform/:connector", hook)
	r.POST("/hooks/:platform/:connector", hook)

	r.GET("/healthz", func(c *gin.Context) { c.String(http.StatusOK, "ok\n") })
	r.GET("/readyz", func(c *gin.Context) {
		if o.Ready != nil {
			ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
			defer cancel()
			if err := o.Ready(ctx); err != nil {
				c.String(http.StatusServiceUnavailable, "not ready: %v\n", err)
				return
			}
		}
		c.String(http.StatusOK, "ready\n")
	})
	return r
}
