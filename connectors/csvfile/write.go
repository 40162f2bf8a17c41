package csvfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/punchbridge/punchbridge/mapping"
)

// bom is the UTF-8 byte-order mark.
var bom = []byte{0xEF, 0xBB, 0xBF}

// maxStateLine bounds one state line: a day record is well under 64 KiB.
const maxStateLine = 1 << 20

// appendLines appends JSON lines, each ending in a newline, to a state
// file in one write and syncs it once, so that the records of a delivered
// batch survive a crash. A batch of 500 days synced a line at a time spent
// most of a month's push in fsync. If it fails part-way, the lines
// written are whole records or a torn last one, which readRecords skips;
// the batch is not acknowledged and comes again, and the latest version
// of a day wins however often it is in the file.
func appendLines(path string, lines []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open state %s: %w", path, err)
	}
	if _, err := f.Write(lines); err != nil {
		_ = f.Close()
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync state %s: %w", path, err)
	}
	return f.Close()
}

// readRecords reads a state file: the latest version of each day, sorted
// by employee, date and shift. A torn last line (a crash mid-append,
// whose delivery was then not acknowledged) is skipped.
func readRecords(path string) ([]mapping.DayRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	defer f.Close()
	latest := map[mapping.DayKey]mapping.DayRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxStateLine)
	for sc.Scan() {
		var r mapping.DayRecord
		if err := mapping.UnmarshalDay(sc.Bytes(), &r); err != nil {
			continue
		}
		if old, ok := latest[r.Key()]; !ok || r.Version > old.Version {
			latest[r.Key()] = r
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read state %s: %w", path, err)
	}
	out := make([]mapping.DayRecord, 0, len(latest))
	for _, r := range latest {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.EmployeeID != b.EmployeeID {
			return a.EmployeeID < b.EmployeeID
		}
		if a.Date != b.Date {
			return a.Date < b.Date
		}
		return a.Shift < b.Shift
	})
	return out, nil
}

// writeFiles writes base.<format> for each configured format.
func (s *Sink) writeFiles(base, sheet string, recs []mapping.DayRecord, stamp time.Time) error {
	for _, f := range s.formats {
		var err error
		switch f {
		case FormatCSV:
			err = writeAtomic(s.dir, base+".csv", 0o640, func(w *os.File) error { return s.writeCSV(w, recs) })
		case FormatXLSX:
			err = writeAtomic(s.dir, base+".xlsx", 0o640, func(w *os.File) error { return s.writeXLSX(w, sheet, recs, stamp) })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) writeCSV(w io.Writer, recs []mapping.DayRecord) error {
	bw := bufio.NewWriter(w)
	if s.bom {
		if _, err := bw.Write(bom); err != nil {
			return err
		}
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true // RFC 4180, and what Excel writes
	if err := cw.Write(s.m.Fields()); err != nil {
		return err
	}
	for _, r := range recs {
		raw, err := r.MarshalJSON()
		if err != nil {
			return err
		}
		row, err := s.m.Row(raw)
		if errors.Is(err, mapping.ErrSkip) {
			continue
		}
		if err != nil {
			return err
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func (s *Sink) writeXLSX(w io.Writer, sheet string, recs []mapping.DayRecord, stamp time.Time) error {
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(sheet)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	header := make([]any, 0, len(s.m.Fields()))
	for _, h := range s.m.Fields() {
		header = append(header, h)
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	row := 2
	for _, r := range recs {
		raw, err := r.MarshalJSON()
		if err != nil {
			return err
		}
		cells, err := s.m.Values(raw)
		if errors.Is(err, mapping.ErrSkip) {
			continue
		}
		if err != nil {
			return err
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
		row++
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	// A fixed stamp (the period's close) rather than the clock, so that
	// exporting the same records gives the same workbook.
	ts := stamp.UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "punchbridge", Created: ts, Modified: ts, Title: sheet}); err != nil {
		return err
	}
	return f.Write(w)
}

// sheetName makes text a valid sheet name: at most 31 characters, none of
// []:*?/\.
func sheetName(text string) string {
	var b bytes.Buffer
	for _, r := range text {
		switch r {
		case '[', ']', ':', '*', '?', '/', '\\':
			r = '_'
		}
		b.WriteRune(r)
	}
	rs := []rune(b.String())
	if len(rs) > 31 {
		rs = rs[:31]
	}
	return string(rs)
}

// writeAtomic writes dir/name through a temporary file in dir that is
// synced and renamed into place, then syncs dir: a reader sees the old
// file or the new one, never a part.
func writeAtomic(dir, name string, perm os.FileMode, write func(*os.File) error) (err error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("set mode of %s: %w", name, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	if err = os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename %s into place: %w", name, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; not every system can
		_ = d.Close()
	}
	return nil
}
