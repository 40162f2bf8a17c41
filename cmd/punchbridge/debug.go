package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"time"
)

// mutexProfileFraction is the share of contended sync.Mutex waits the
// mutex profile records while the debug endpoint serves: one in this many.
// A lock that queues every request (a convoy) shows there within seconds,
// and sampling so few costs nothing measurable.
const mutexProfileFraction = 100

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
// While it serves, the runtime samples contended mutexes for
// /debug/pprof/mutex (see mutexProfileFraction); stop puts the rate back.
func startDebug(ln net.Listener, log *slog.Logger) (stop func()) {
	if ln == nil {
		return func() {}
	}
	// No WriteTimeout: a CPU profile or trace answers only after the
	// seconds it was asked for.
	srv := &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}
	prevMutex := runtime.SetMutexProfileFraction(mutexProfileFraction)
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
		runtime.SetMutexProfileFraction(prevMutex)
	}
}
