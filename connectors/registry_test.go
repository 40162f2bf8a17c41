package connectors

import (
	"log/slog"
	"testing"
	"time"
)

func TestDepsWithDefaults(t *testing.T) {
	d := Deps{}.WithDefaults()
	if d.Logger == nil || d.Now == nil || d.Tokens == nil {
		t.Fatalf("WithDefaults of nothing = %+v; want a logger, a clock and a token cache", d)
	}
	if other := (Deps{}).WithDefaults(); other.Tokens == d.Tokens {
		t.Error("two connectors share a default token cache")
	}
	log := slog.New(slog.DiscardHandler)
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	tokens := NewMemoryTokenCache()
	given := Deps{Logger: log, Now: func() time.Time { return at }, Tokens: tokens}.WithDefaults()
	if given.Logger != log || !given.Now().Equal(at) || given.Tokens != tokens {
		t.Errorf("WithDefaults replaced what was given: %+v", given)
	}
}
