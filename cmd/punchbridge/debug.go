package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugHandler serves the Go runtime's profiles under /debug/pprof/, as
// `go tool pprof` and `go tool trace` read them, and nothing else. It is
// built on a mux of its own: net/http/pprof also registers itself on
// http.DefaultServeMux, which nothing in the binary serves.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // the named profiles: heap, goroutine, allocs…
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// startDebug serves debugHandler on ln until the returned stop is called;
// stop cuts off a profile still being taken. A nil ln serves nothing.
func startDebug(ln net.Listener, log *slog.Logger) (stop func()) {
	if ln == nil {
		return func() {}
	}
	// No WriteTimeout: a CPU profile or trace answers only after the
	// seconds it was asked for.
	srv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("debug endpoint stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	log.Info("serving profiles", "addr", ln.Addr().String(), "path", "/debug/pprof/")
	return func() {
		srv.Close()
		<-done
	}
}
