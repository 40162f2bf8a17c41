package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/server"
)

const baselineUsage = `usage: punchbridge bench baseline --config FILE [--listen ADDR] [--debug-listen ADDR]

bench baseline serves the config's webhook routes as 'serve' does, with the
same HTTP stack and the same receivers (signature check, AES decryption,
normalization), but claims each request's events in Redis, one SET NX an
event in one round trip a request, instead of storing them: nothing is
written to disk, nothing is mapped, group committed or reconciled.
'bench webhook' against it (without --config or --admin-url: there is no
ledger to check) measures the ceiling of webhook ingest on this machine;
'bench webhook' against 'serve' on the same machine, run alternately,
shows what the durable write costs.

It needs the config's redis section. Its claims stay pending under
redis.prefix until their lease lapses (a copy sent meanwhile counts as a
copy); give each run a prefix of its own. The receivers queue the follow-up
reads of pushed punches as in serve, but nothing runs them: give the
connector a queue_size above the run's pushes, or pushes past it are
answered 503 (queue full), as serve answers a burst that outruns its queue. When interrupted it prints the
requests and events it received and how many events were new to Redis.

Example:
  punchbridge bench baseline --config bench.yaml &
  punchbridge bench webhook --url http://127.0.0.1:8080/hooks/dingtalk/dingtalk-bench \
      --events 100000 --concurrency 1024 --token T --aes-key K --owner-key APPKEY
`

func runBenchBaseline(ctx context.Context, env *cmdEnv, args []string) int {
	cfg, ln, debugLn, code := serverCommand(env, "bench baseline", baselineUsage, args)
	if cfg == nil {
		return code
	}
	if cfg.Redis == nil {
		ln.Close()
		if debugLn != nil {
			debugLn.Close()
		}
		fmt.Fprintf(env.stderr, "bench baseline: %s has no redis section; the baseline claims every event in Redis: add redis: {url: redis://127.0.0.1:6379/0}\n", cfg.File)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(env.stderr, nil))
	defer startDebug(debugLn, log)()
	b, err := serveBaseline(ctx, cfg, log, ln)
	if err != nil {
		log.Error("bench baseline stopped", "err", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "bench baseline: %d requests, %d events received, %d new to Redis, %d copies, %d failed claims\n",
		b.requests.Load(), b.events.Load(), b.claimed.Load(), b.copies.Load(), b.failed.Load())
	return exitOK
}

// baseline is the ingest of bench baseline: each request's events claimed
// in Redis, in one pipelined call a request, and counted.
type baseline struct {
	dedupe                                    *coord.Dedupe
	requests, events, claimed, copies, failed atomic.Int64
}

// emit is the receivers' connectors.EmitFunc. A failed claim fails the
// request, as a failed ledger write does in serve, so that the platform
// (here the load tool) sees it.
func (b *baseline) emit(ctx context.Context, events []mapping.Event) error {
	b.requests.Add(1)
	b.events.Add(int64(len(events)))
	if len(events) == 0 {
		return nil
	}
	keys := make([]coord.ClaimKey, len(events))
	for i := range events {
		keys[i] = coord.ClaimKey{EventID: events[i].ID, Fingerprint: mapping.Fingerprint(events[i])}
	}
	states, err := b.dedupe.Claim(ctx, keys)
	if err != nil {
		b.failed.Add(int64(len(events)))
		return fmt.Errorf("bench baseline: claim %d events: %w", len(events), err)
	}
	for _, s := range states {
		if s == coord.Claimed {
			b.claimed.Add(1)
		} else {
			b.copies.Add(1)
		}
	}
	return nil
}

// serveBaseline answers the config's webhook routes on ln until ctx ends.
func serveBaseline(ctx context.Context, cfg *config.Config, log *slog.Logger, ln net.Listener) (*baseline, error) {
	defer ln.Close()
	co, err := openCoordination(cfg.Redis, time.Now)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	set, err := newRegistry().Build(cfg, connectors.Deps{Logger: log, Now: time.Now, Tokens: co.tokens})
	if err != nil {
		return nil, err
	}
	b := &baseline{dedupe: co.dedupe}
	o := server.Options{Ingest: b.emit, Ready: co.Ping, Log: log}
	for _, c := range set.Connectors {
		if r, ok := c.(connectors.Receiver); ok {
			o.Receivers = append(o.Receivers, r)
		}
	}
	if len(o.Receivers) == 0 {
		return nil, errors.New("bench baseline: no connector of the config accepts webhooks (set token and aes_key on one)")
	}
	srv := &http.Server{Handler: server.New(o), ReadHeaderTimeout: 10 * time.Second}
	log.Info("serving the baseline", "addr", ln.Addr().String(), "receivers", len(o.Receivers))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return nil, fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return nil, err
	}
	return b, nil
}
