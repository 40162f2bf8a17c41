package coord

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DeleteAll deletes every key under the prefix of k and reports how many
// there were. It is for a deployment that is going away with its ledger,
// such as a demo on a temporary ledger, whose claims and leases would
// otherwise outlive it by their TTLs. Keys are found with SCAN, so it does
// not block Redis, and removed with UNLINK a thousand at a time.
func DeleteAll(ctx context.Context, rdb redis.UniversalClient, k Keys) (int, error) {
	iter := rdb.Scan(ctx, 0, globEscape(k.Prefix())+"*", 1000).Iterator()
	n := 0
	batch := make([]string, 0, 1000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return wrapErr("unlink", err)
		}
		n += len(batch)
		batch = batch[:0]
		return nil
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return n, wrapErr("scan", err)
	}
	return n, flush()
}

// globEscape escapes the characters SCAN's MATCH pattern gives a meaning.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
