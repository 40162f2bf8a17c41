package connectors

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/punchbridge/punchbridge/config"
)

// Deps is what every connector and sink may be given by the process that
// builds it. Nothing in a connector reaches for globals.
type Deps struct {
	Logger *slog.Logger
	// Now is the clock; tests pass a fake one.
	Now func() time.Time
	// Tokens caches platform access tokens; nil means a fresh memory cache
	// per connector.
	Tokens TokenCache
	// Tasks, when set, keeps follow-up work durably, so that a callback is
	// acknowledged only once its work is stored; nil keeps it in memory.
	Tasks TaskStore
	// Transport, when set, is the base RoundTripper of every outbound HTTP
	// client (tests and metrics wrap it); nil means a default transport.
	Transport http.RoundTripper
}

// WithDefaults returns d with what a connector needs and was not given: a
// logger that discards, time.Now, and a memory token cache of its own.
func (d Deps) WithDefaults() Deps {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Tokens == nil {
		d.Tokens = NewMemoryTokenCache()
	}
	return d
}

// ConnectorFactory builds a platform connector from its config entry.
type ConnectorFactory func(c config.Component, deps Deps) (Connector, error)

// SinkFactory builds a sink from its config entry.
type SinkFactory func(c config.Component, deps Deps) (Sink, error)

// Registry knows which factory builds which type. It is filled explicitly by
// the binary (or a test); packages never register themselves.
type Registry struct {
	connectors map[string]ConnectorFactory
	sinks      map[string]SinkFactory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{connectors: map[string]ConnectorFactory{}, sinks: map[string]SinkFactory{}}
}

// AddConnector registers the factory of a platform type.
func (r *Registry) AddConnector(typ string, f ConnectorFactory) { r.connectors[typ] = f }

// AddSink registers the factory of a sink type.
func (r *Registry) AddSink(typ string, f SinkFactory) { r.sinks[typ] = f }

// ConnectorTypes lists the registered platform types, sorted.
func (r *Registry) ConnectorTypes() []string { return sortedKeys(r.connectors) }

// SinkTypes lists the registered sink types, sorted.
func (r *Registry) SinkTypes() []string { return sortedKeys(r.sinks) }

// Set is the built connectors and sinks of one config, in config order.
type Set struct {
	Connectors []Connector
	Sinks      []Sink
}

// Connector returns the connector named name.
func (s *Set) Connector(name string) (Connector, bool) {
	for _, c := range s.Connectors {
		if c.Name() == name {
			return c, true
		}
	}
	return nil, false
}

// Sink returns the sink named name.
func (s *Set) Sink(name string) (Sink, bool) {
	for _, k := range s.Sinks {
		if k.Name() == name {
			return k, true
		}
	}
	return nil, false
}

// Build constructs every connector and sink of cfg. It reports every
// failure, each with the entry's file:line, not only the first.
func (r *Registry) Build(cfg *config.Config, deps Deps) (*Set, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	var errs []error
	set := &Set{}
	seen := map[string]bool{}
	for _, c := range cfg.Connectors {
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("%s:%d: duplicate connector name %q", c.File, c.Line, c.Name))
			continue
		}
		seen[c.Name] = true
		f, ok := r.connectors[c.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: connector %q: unknown type %q (known: %v)", c.File, c.Line, c.Name, c.Type, r.ConnectorTypes()))
			continue
		}
		conn, err := f(c, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("connector %q: %w", c.Name, err))
			continue
		}
		set.Connectors = append(set.Connectors, conn)
	}
	seen = map[string]bool{}
	for _, c := range cfg.Sinks {
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("%s:%d: duplicate sink name %q", c.File, c.Line, c.Name))
			continue
		}
		seen[c.Name] = true
		f, ok := r.sinks[c.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("%s:%d: sink %q: unknown type %q (known: %v)", c.File, c.Line, c.Name, c.Type, r.SinkTypes()))
			continue
		}
		s, err := f(c, deps)
		if err != nil {
			errs = append(errs, fmt.Errorf("sink %q: %w", c.Name, err))
			continue
		}
		set.Sinks = append(set.Sinks, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
