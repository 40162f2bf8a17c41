package wecom

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// Limits of oa/getapprovalinfo (B3): ranges of at most 31 days, pages of
// at most 100. A range the platform finds too wide (301112) is halved,
// down to minSplit.
const (
	maxApprovalSpan  = 31 * 24 * time.Hour
	approvalPageSize = 100
	minSplit         = time.Hour
	approvalBatch    = 100
)

// attendanceRecordTypes are the record_type filters of the approvals that
// touch attendance: 1 请假, 2 打卡补卡, 3 出差, 4 外出, 5 加班 (B3). Filters
// of one key are OR-ed.
var attendanceRecordTypes = []string{"1", "2", "3", "4", "5"}

type approvalFilter struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type approvalInfoRequest struct {
	StartTime string           `json:"starttime"`
	EndTime   string           `json:"endtime"`
	NewCursor string           `json:"new_cursor"`
	Size      int              `json:"size"`
	Filters   []approvalFilter `json:"filters"`
}

type approvalInfoResponse struct {
	SpNoList      []lenient.String `json:"sp_no_list"`
	NewNextCursor lenient.String   `json:"new_next_cursor"`
}

// pullApprovals emits the approval and make-up events of every approval
// submitted in w: sp_no lists from getapprovalinfo (31-day spans, filtered
// by record_type 1–5 and approval_templates, and by the templates the
// inbound mapping pins), then one getapprovaldetail per approval, in
// batches of up to 100 events.
func (c *Connector) pullApprovals(ctx context.Context, w connectors.Window, em *emitter, received time.Time, via mapping.Via) error {
	spans := secondSpans(w, maxApprovalSpan)
	lists := make([][]string, len(spans))
	err := c.forEach(ctx, len(spans), func(ctx context.Context, i int) error {
		var err error
		lists[i], err = c.spanNumbers(ctx, spans[i])
		return err
	})
	if err != nil {
		return err
	}
	var numbers []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, n := range l {
			if !seen[n] {
				seen[n] = true
				numbers = append(numbers, n)
			}
		}
	}
	var (
		mu  sync.Mutex
		buf []mapping.Event
	)
	flush := func(ctx context.Context, min int) error {
		mu.Lock()
		if len(buf) < min || len(buf) == 0 {
			mu.Unlock()
			return nil
		}
		batch := buf
		buf = nil
		mu.Unlock()
		return em.send(ctx, batch)
	}
	err = c.forEach(ctx, len(numbers), func(ctx context.Context, i int) error {
		events, err := c.approvalEvents(ctx, numbers[i], received, via)
		if err != nil {
			return err
		}
		mu.Lock()
		buf = append(buf, events...)
		mu.Unlock()
		return flush(ctx, approvalBatch)
	})
	if err != nil {
		return err
	}
	return flush(ctx, 1)
}

// spanNumbers lists the approvals submitted in one span: those of the
// attendance record types (approvalNumbers), and those of the templates
// the inbound mapping pins to a meaning, which may have no attendance
// record_type. A number may be listed twice.
func (c *Connector) spanNumbers(ctx context.Context, span connectors.Window) ([]string, error) {
	out, err := c.approvalNumbers(ctx, span)
	if err != nil {
		return nil, err
	}
	pinned := c.pinnedTemplates()
	if len(pinned) == 0 {
		return out, nil
	}
	filters := make([]approvalFilter, len(pinned))
	for i, id := range pinned {
		filters[i] = approvalFilter{Key: "template_id", Value: id}
	}
	more, err := c.listNumbers(ctx, span, filters)
	return append(out, more...), err
}

// approvalNumbers lists the approvals of the attendance record types
// submitted in one span, within approval_templates when that is set.
func (c *Connector) approvalNumbers(ctx context.Context, span connectors.Window) ([]string, error) {
	filters := make([]approvalFilter, 0, len(attendanceRecordTypes)+len(c.cfg.ApprovalTemplates))
	for _, t := range attendanceRecordTypes {
		filters = append(filters, approvalFilter{Key: "record_type", Value: t})
	}
	for _, id := range c.cfg.ApprovalTemplates {
		filters = append(filters, approvalFilter{Key: "template_id", Value: id})
	}
	return c.listNumbers(ctx, span, filters)
}

// listNumbers pages through getapprovalinfo for one span and filters;
// when the platform asks for a narrower range (301112) the span is
// halved.
func (c *Connector) listNumbers(ctx context.Context, span connectors.Window, filters []approvalFilter) ([]string, error) {
	var out []string
	cursor := ""
	for {
		req := approvalInfoRequest{
			StartTime: strconv.FormatInt(span.From.Unix(), 10),
			EndTime:   strconv.FormatInt(span.To.Unix(), 10),
			NewCursor: cursor,
			Size:      approvalPageSize,
			Filters:   filters,
		}
		var resp approvalInfoResponse
		err := c.client.call(ctx, roleApproval, apiApprovalInfo, req, &resp)
		if errors.Is(err, ErrRangeTooWide) && cursor == "" && span.To.Sub(span.From) >= 2*minSplit {
			mid := span.From.Add(span.To.Sub(span.From) / 2).Truncate(time.Second)
			c.log.Info("approval range too wide, halving it", "from", span.From.Unix(), "to", span.To.Unix())
			first, err := c.listNumbers(ctx, connectors.Window{From: span.From, To: mid}, filters)
			if err != nil {
				return nil, err
			}
			second, err := c.listNumbers(ctx, connectors.Window{From: mid, To: span.To}, filters)
			return append(first, second...), err
		}
		if err != nil {
			return nil, fmt.Errorf("wecom: list approvals submitted from %s to %s: %w",
				span.From.In(shanghai).Format(time.RFC3339), span.To.In(shanghai).Format(time.RFC3339), err)
		}
		for _, n := range resp.SpNoList {
			if n != "" {
				out = append(out, string(n))
			}
		}
		next := string(resp.NewNextCursor)
		if next == "" {
			return out, nil
		}
		if next == cursor {
			return nil, fmt.Errorf("wecom: list approvals: new_next_cursor %q repeats the cursor", next)
		}
		cursor = next
	}
}

type approvalDetailRequest struct {
	SpNo string `json:"sp_no"`
}

type approvalDetailResponse struct {
	Info approvalInfo `json:"info"`
}

// approvalEvents fetches one approval's details and maps them to events
// (see approvalInfo.events). An approval of a user outside cfg.Users, when
// that is set, gives none.
func (c *Connector) approvalEvents(ctx context.Context, spNo string, received time.Time, via mapping.Via) ([]mapping.Event, error) {
	var resp approvalDetailResponse
	if err := c.client.call(ctx, roleApproval, apiApprovalDetail, approvalDetailRequest{SpNo: spNo}, &resp); err != nil {
		return nil, fmt.Errorf("wecom: read approval %s: %w", spNo, err)
	}
	if len(c.cfg.Users) > 0 && !c.pulls(string(resp.Info.Applyer.UserID)) {
		return nil, nil
	}
	events, skipped := resp.Info.events(c.cfg.inbound, c.name, c.cfg.CorpID, received, via)
	for _, reason := range skipped {
		c.log.Warn("approval control skipped", "sp_no", spNo, "reason", reason)
	}
	return events, nil
}

// pulls reports whether user is one of cfg.Users (case-insensitively, as
// WeCom compares userids).
func (c *Connector) pulls(user string) bool {
	for _, u := range c.cfg.Users {
		if equalFoldASCII(u, user) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
