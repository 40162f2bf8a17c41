package csvfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/config"
	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
	"github.com/punchbridge/punchbridge/mapping/presets"
)

// Type is the sink type name in the config.
const Type = "csvfile"

// stateDir is where the sink keeps what it has been given, inside Dir.
const stateDir = ".punchbridge"

var _ connectors.Sink = (*Sink)(nil)

// Sink exports payroll periods as files. It is safe for concurrent use;
// deliveries are applied one at a time.
type Sink struct {
	name    string
	dir     string
	state   string // dir/.punchbridge
	m       *mapping.Mapping
	loc     *time.Location
	period  string
	close   time.Duration
	formats []string
	bom     bool
	prefix  string
	now     func() time.Time

	mu sync.Mutex
	// exported caches, per exported period, the version of each day
	// record its file holds.
	exported map[string]map[mapping.DayKey]int
}

// New is the connectors.SinkFactory of type "csvfile".
func New(c config.Component, deps connectors.Deps) (connectors.Sink, error) {
	cfg := DefaultConfig()
	if err := c.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.Dir != "" && !filepath.IsAbs(cfg.Dir) {
		cfg.Dir = filepath.Join(filepath.Dir(c.File), cfg.Dir)
	}
	loc, _ := time.LoadLocation(cfg.Timezone) // Decode validated it
	m, err := cfg.Mapping.Compile(c.File, mapping.WithTimezone(loc))
	if err != nil {
		return nil, err
	}
	if m != nil {
		if m.Input() != mapping.DaySchema {
			return nil, config.Errors{{File: c.File, Line: config.LineOf(c.Node, "mapping"),
				Msg: fmt.Sprintf("sink %q: mapping %s reads %s; the columns of a payroll file come from day records (input: %s)", c.Name, m.Name(), m.Input(), mapping.DaySchema)}}
		}
		cfg.Mapping = presets.Use(m)
	}
	return NewSink(c.Name, cfg, deps)
}

// NewSink builds a sink named name from a config, which it validates.
// Start from DefaultConfig.
func NewSink(name string, cfg Config, deps connectors.Deps) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("csvfile %s: %w", name, err)
	}
	loc, _ := time.LoadLocation(cfg.Timezone)
	if cfg.Mapping.IsZero() {
		m, err := presets.Load("csv-payroll", mapping.WithTimezone(loc))
		if err != nil {
			return nil, fmt.Errorf("csvfile %s: %w", name, err)
		}
		cfg.Mapping = presets.Use(m)
	}
	m, err := cfg.Mapping.Compile("(config)", mapping.WithTimezone(loc))
	if err != nil {
		return nil, fmt.Errorf("csvfile %s: %w", name, err)
	}
	if m.Input() != mapping.DaySchema {
		return nil, fmt.Errorf("csvfile %s: mapping %s reads %s; use one with input: %s", name, m.Name(), m.Input(), mapping.DaySchema)
	}
	if fi, err := os.Stat(cfg.Dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("csvfile %s: dir %s: must be an existing directory", name, cfg.Dir)
	}
	state := filepath.Join(cfg.Dir, stateDir)
	if err := os.MkdirAll(state, 0o750); err != nil {
		return nil, fmt.Errorf("csvfile %s: create %s: %w", name, state, err)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	return &Sink{
		name: name, dir: cfg.Dir, state: state, m: m, loc: loc, period: cfg.Period, close: cfg.CloseAfter,
		formats: cfg.Formats, bom: cfg.BOM, prefix: cfg.Prefix, now: now,
		exported: map[string]map[mapping.DayKey]int{},
	}, nil
}

// Name is the sink's instance name.
func (s *Sink) Name() string { return s.name }

// Mapping is the mapping that gives the columns.
func (s *Sink) Mapping() *mapping.Mapping { return s.m }

// Deliver takes one day record and keeps it in the sink's state: for a
// period not yet exported until Flush exports the period, once it has
// closed; for an exported one until Flush writes the period's adjustments
// file of the day, unless the export already holds this version. A record
// the mapping cannot write fails permanently, at once.
func (s *Sink) Deliver(ctx context.Context, d connectors.Delivery) error {
	return s.DeliverBatch(ctx, []connectors.Delivery{d})[0]
}

// batchSize is how many records one DeliverBatch takes. A file sink has no
// request to fill; a batch is what it writes at once: each adjustments
// file it touches once, not once a record.
const batchSize = 500

// BatchSize is how many records the push hands DeliverBatch at a time.
func (s *Sink) BatchSize() int { return batchSize }

// DeliverBatch takes each record as Deliver would, one after another, and
// appends to each state file it adds to once. It returns one error per
// record.
func (s *Sink) DeliverBatch(ctx context.Context, ds []connectors.Delivery) []error {
	recs := make([]mapping.DayRecord, len(ds))
	for i, d := range ds {
		recs[i] = d.Record
	}
	errs := s.deliverBatch(ctx, recs)
	for i, err := range errs {
		if err != nil {
			errs[i] = fmt.Errorf("csvfile %s: deliver %s: %w", s.name, ds[i].IdempotencyKey, err)
		}
	}
	return errs
}

// deliverBatch applies records in order and returns one error per record.
func (s *Sink) deliverBatch(ctx context.Context, recs []mapping.DayRecord) []error {
	errs := make([]error, len(recs))
	type kept struct {
		p   period
		raw []byte
	}
	prepared := make([]*kept, len(recs))
	for i, rec := range recs {
		p, err := periodOf(rec.Date, s.period, s.loc)
		if err != nil {
			errs[i] = fmt.Errorf("%w (%w)", err, connectors.ErrPermanent)
			continue
		}
		raw, err := rec.MarshalJSON()
		if err != nil {
			errs[i] = fmt.Errorf("encode day record: %w (%w)", err, connectors.ErrPermanent)
			continue
		}
		// Map now: a record the mapping cannot write must fail on its own
		// delivery, not when the period is exported.
		switch _, err := s.m.Row(raw); {
		case errors.Is(err, mapping.ErrSkip):
			continue
		case err != nil:
			errs[i] = fmt.Errorf("%w (%w)", err, connectors.ErrPermanent)
			continue
		}
		prepared[i] = &kept{p, raw}
	}
	if err := ctx.Err(); err != nil {
		for i := range prepared {
			if prepared[i] != nil {
				errs[i] = err
			}
		}
		return errs
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	// Each state file the batch adds to is appended to once, with the
	// batch's lines for it in order.
	type lines struct {
		b    []byte
		recs []int // indexes into recs
	}
	var paths []string
	appends := map[string]*lines{}
	// Whether a period is exported is a file's existence; a batch asks it
	// once a period, not once a record.
	exported := map[string]bool{}
	isExported := func(p period) bool {
		v, ok := exported[p.key]
		if !ok {
			v = s.isExported(p)
			exported[p.key] = v
		}
		return v
	}
	add := func(path string, i int) {
		l := appends[path]
		if l == nil {
			l = &lines{}
			appends[path] = l
			paths = append(paths, path)
		}
		l.b = append(append(l.b, prepared[i].raw...), '\n')
		l.recs = append(l.recs, i)
	}
	for i, k := range prepared {
		if k == nil {
			continue
		}
		if !isExported(k.p) {
			// Kept for the period's file, which Flush writes once the
			// period has closed.
			add(s.statePath(k.p.key), i)
			continue
		}
		held, err := s.exportedVersions(k.p)
		if err != nil {
			errs[i] = err
			continue
		}
		if v, ok := held[recs[i].Key()]; ok && v >= recs[i].Version {
			continue // the period's file already holds it
		}
		// Kept for the adjustments file of the day, which Flush writes.
		add(filepath.Join(s.state, s.adjustmentsBase(k.p, now)+".jsonl"), i)
	}
	for _, path := range paths {
		l := appends[path]
		if err := appendLines(path, l.b); err != nil {
			for _, i := range l.recs {
				errs[i] = err
			}
		}
	}
	return errs
}

// Flush exports every period that has closed by now and is not yet
// exported, and writes the adjustments files that corrections were added
// to since they were last written. The push flushes its sinks after
// delivering everything due, so a closed period's file holds every record
// the push brought for it (the first run after installing brings a whole
// closed month), and a night without deliveries still closes the period.
func (s *Sink) Flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	files, err := s.stateFiles()
	if err == nil {
		err = errors.Join(s.exportDue(files, now), s.writeAdjustmentsDue(files, now))
	}
	if err != nil {
		return fmt.Errorf("csvfile %s: %w", s.name, err)
	}
	return nil
}

// stateFile is a file of the sink's state: a period's records, or, with
// adjustments set, a day's corrections of an exported period.
type stateFile struct {
	entry       os.DirEntry
	base        string // the name without .jsonl
	key         string // the period's key
	adjustments bool
}

// stateFiles lists the sink's state files, once a flush.
func (s *Sink) stateFiles() ([]stateFile, error) {
	entries, err := os.ReadDir(s.state)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s.state, err)
	}
	var files []stateFile
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || !strings.HasPrefix(base, s.prefix+"-") {
			continue
		}
		key, _, adj := strings.Cut(strings.TrimPrefix(base, s.prefix+"-"), "-adjustments-")
		files = append(files, stateFile{entry: e, base: base, key: key, adjustments: adj})
	}
	return files, nil
}

// writeAdjustmentsDue writes each adjustments file whose state holds
// records its files may not: appended to since they were written, or
// without them. Written here, once a push, a correction of a whole month
// costs the month's rows once; written after every batch, as before, it
// cost them once a batch: 80,000 corrections took 49 s.
func (s *Sink) writeAdjustmentsDue(files []stateFile, now time.Time) error {
	var errs []error
	for _, f := range files {
		if !f.adjustments {
			continue
		}
		info, err := f.entry.Info()
		if err != nil {
			errs = append(errs, fmt.Errorf("state %s: %w", f.entry.Name(), err))
			continue
		}
		p, err := s.periodByKey(f.key)
		if err != nil || !s.outdated(f.base, info.ModTime()) {
			continue
		}
		if err := s.writeAdjustments(f.base, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// outdated reports whether a file of base in some format is missing or
// not newer than its state, last written at state.
func (s *Sink) outdated(base string, state time.Time) bool {
	for _, f := range s.formats {
		fi, err := os.Stat(filepath.Join(s.dir, base+"."+f))
		if err != nil || !fi.ModTime().After(state) {
			return true
		}
	}
	return false
}

// exportDue exports the closed periods that have records and no export.
func (s *Sink) exportDue(files []stateFile, now time.Time) error {
	var errs []error
	for _, f := range files {
		if f.adjustments {
			continue
		}
		p, err := s.periodByKey(f.key)
		if err != nil || s.isExported(p) || now.Before(p.closesAt(s.close)) {
			continue
		}
		if err := s.export(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// periodByKey rebuilds a period from its key.
func (s *Sink) periodByKey(key string) (period, error) {
	date := key + "-01"
	if s.period == PeriodHalfMonth {
		day := "01"
		if strings.Contains(key, "-16_") {
			day = "16"
		}
		date = key[:7] + "-" + day
	}
	p, err := periodOf(date, s.period, s.loc)
	if err == nil && p.key != key {
		err = fmt.Errorf("state file %s does not name a %s period", key, s.period)
	}
	return p, err
}

// export writes a period's files from its state, then marks it exported;
// from then on its files are never written again.
func (s *Sink) export(p period) error {
	recs, err := readRecords(s.statePath(p.key))
	if err != nil {
		return err
	}
	base := s.prefix + "-" + p.key
	if err := s.writeFiles(base, p.key, recs, p.closesAt(s.close)); err != nil {
		return fmt.Errorf("export period %s: %w", p.key, err)
	}
	if err := writeAtomic(s.state, base+".exported", 0o640, func(w *os.File) error {
		_, err := fmt.Fprintf(w, "%d records\n", len(recs))
		return err
	}); err != nil {
		return fmt.Errorf("mark period %s exported: %w", p.key, err)
	}
	held := map[mapping.DayKey]int{}
	for _, r := range recs {
		held[r.Key()] = r.Version
	}
	s.exported[p.key] = held
	return nil
}

// adjustmentsBase names the adjustments file of p for corrections made on
// now's day (in the sink's zone).
func (s *Sink) adjustmentsBase(p period, now time.Time) string {
	return s.prefix + "-" + p.key + "-adjustments-" + now.In(s.loc).Format(time.DateOnly)
}

// writeAdjustments writes the adjustments file base of the exported
// period p from its state; the period's own file is never rewritten.
func (s *Sink) writeAdjustments(base string, p period, now time.Time) error {
	recs, err := readRecords(filepath.Join(s.state, base+".jsonl"))
	if err != nil {
		return err
	}
	if err := s.writeFiles(base, "adjustments "+p.key, recs, now); err != nil {
		return fmt.Errorf("write adjustments of %s: %w", p.key, err)
	}
	return nil
}

func (s *Sink) statePath(key string) string {
	return filepath.Join(s.state, s.prefix+"-"+key+".jsonl")
}

func (s *Sink) isExported(p period) bool {
	if _, ok := s.exported[p.key]; ok {
		return true
	}
	_, err := os.Stat(filepath.Join(s.state, s.prefix+"-"+p.key+".exported"))
	return err == nil
}

// exportedVersions returns the versions an exported period's file holds.
func (s *Sink) exportedVersions(p period) (map[mapping.DayKey]int, error) {
	if held, ok := s.exported[p.key]; ok {
		return held, nil
	}
	recs, err := readRecords(s.statePath(p.key))
	if err != nil {
		return nil, err
	}
	held := map[mapping.DayKey]int{}
	for _, r := range recs {
		held[r.Key()] = r.Version
	}
	s.exported[p.key] = held
	return held, nil
}
