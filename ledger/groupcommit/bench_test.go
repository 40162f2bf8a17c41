package groupcommit_test

import (
	"sync/atomic"
	"testing"

	"github.com/punchbridge/punchbridge/ledger"
	"github.com/punchbridge/punchbridge/ledger/groupcommit"
	"github.com/punchbridge/punchbridge/mapping"
)

// BenchmarkAppendOneEventPerCaller appends one new event per call from 64
// concurrent callers, as webhook requests carrying one punch each do: once
// straight to the SQLite ledger (a transaction per call) and once through
// group commit. It reports events/s and, for group commit, the mean number
// of events a commit held.
func BenchmarkAppendOneEventPerCaller(b *testing.B) {
	for _, bc := range []struct {
		name string
		wrap func(l ledger.Ledger) ledger.Ledger
	}{
		{"direct", func(l ledger.Ledger) ledger.Ledger { return l }},
		{"groupcommit", func(l ledger.Ledger) ledger.Ledger { return groupcommit.New(l, groupcommit.Options{}) }},
		{"groupcommit-nowait", func(l ledger.Ledger) ledger.Ledger { return groupcommit.New(l, groupcommit.Options{BatchWait: -1}) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := bc.wrap(openSQLite(b))
			defer l.Close()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(32) // 32 × GOMAXPROCS callers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					e := punch(int(n.Add(1)), true)
					res, err := l.Append(b.Context(), []mapping.Event{e})
					if err != nil {
						b.Error(err)
						return
					}
					if res.Stored != 1 {
						b.Errorf("stored %d, want 1", res.Stored)
						return
					}
				}
			})
			b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "events/s")
			if g, ok := l.(*groupcommit.Ledger); ok {
				st := g.Stats()
				b.ReportMetric(float64(st.Items)/float64(max(st.Batches, 1)), "events/commit")
			}
		})
	}
}
