package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/punchbridge/punchbridge/coord"
	"github.com/punchbridge/punchbridge/internal/testenv"
	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/ledger/postgres"
	"github.com/punchbridge/punchbridge/ledger/sqlite"
	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkClaimAndWrite100 measures the ingest path the way a pull page or
// a burst of webhooks uses it: batches of 100 new punches, each batch
// validated, claimed in Redis in one pipelined round trip, written to the
// ledger in one transaction and its claims committed in a second round
// trip, one batch after another. It reports events/s on SQLite and on
// PostgreSQL; docs/PERFORMANCE.md has the figures and what limits them
// (the ledger's one writer).
func BenchmarkClaimAndWrite100(b *testing.B) {
	url := testenv.RedisURL(b)
	backends := map[string]func(b *testing.B) ledger.Ledger{
		"sqlite": func(b *testing.B) ledger.Ledger {
			l, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "l.db"))
			if err != nil {
				b.Fatal(err)
			}
			return l
		},
		"postgres": func(b *testing.B) ledger.Ledger {
			dsn := testenv.PostgresURL(b)
			l, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(fmt.Sprintf("pbbench_%d", time.Now().UnixNano())))
			if err != nil {
				b.Fatal(err)
			}
			return l
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			l := backends[name](b)
			defer l.Close()
			ids := mapping.NewIdentities()
			ids.Set("fake", "t1", "u1", "E1")
			rdb := redisClient(b, url)
			in := New(l, ids, dayCalendar{}, nil).WithClaimer(coord.NewDedupe(rdb, testPrefix(b, rdb), time.Hour))
			t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
			batch := make([]mapping.Event, 100)
			n := 0
			for b.Loop() {
				for i := range batch {
					e := punch("u1", t0.Add(time.Duration(n+i)*time.Second))
					e.ID = fmt.Sprintf("fake/t1/punch/%d", n+i)
					batch[i] = e
				}
				if _, err := in.Ingest(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				n += len(batch)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkClaimAndWrite100Concurrent feeds the same path from sixteen
// goroutines at once, as concurrent webhooks and pulls do in serve: each
// ingest's claims and writes are grouped with the others' (groupcommit, as
// the binary wires it), and preparing and claiming one batch overlaps the
// SQLite writer's commit of another, so that the two cores are both used.
// It reports events/s; what limits it is the one SQLite writer.
func BenchmarkClaimAndWrite100Concurrent(b *testing.B) {
	url := testenv.RedisURL(b)
	sl, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "l.db"))
	if err != nil {
		b.Fatal(err)
	}
	l := groupcommit.New(sl, groupcommit.Options{})
	defer l.Close()
	ids := mapping.NewIdentities()
	ids.Set("fake", "t1", "u1", "E1")
	rdb := redisClient(b, url)
	claims := groupcommit.NewClaims(coord.NewDedupe(rdb, testPrefix(b, rdb), time.Hour), groupcommit.Options{})
	defer claims.Close()
	in := New(l, ids, dayCalendar{}, nil).WithClaimer(claims)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))
	// As a pull does: a batch commits once the writer is free, without
	// waiting for others to fill it.
	ctx := groupcommit.NoWait(context.Background())
	var next atomic.Int64
	b.SetParallelism(8) // 8 × GOMAXPROCS feeders
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]mapping.Event, 100)
		for pb.Next() {
			n := int(next.Add(int64(len(batch)))) - len(batch)
			for i := range batch {
				e := punch("u1", t0.Add(time.Duration(n+i)*time.Second))
				e.ID = fmt.Sprintf("fake/t1/punch/%d", n+i)
				batch[i] = e
			}
			if _, err := in.Ingest(ctx, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(next.Load())/b.Elapsed().Seconds(), "events/s")
}
