package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/connectors/lenient"
)

// Limits of workflow/processes/instanceIds/query (platform API reference
// A3).
const (
	maxInstancesPerPage = 20
	maxInstanceSpan     = 120 * 24 * time.Hour
	maxInstanceAge      = 365 * 24 * time.Hour
)

type instanceIDsRequest struct {
	ProcessCode string `json:"processCode"`
	StartTime   int64  `json:"startTime"`
	EndTime     int64  `json:"endTime"`
	NextToken   int64  `json:"nextToken"`
	MaxResults  int    `json:"maxResults"`
}

type instanceIDsResponse struct {
	Result struct {
		List      []lenient.String `json:"list"`
		NextToken lenient.String   `json:"nextToken"`
	} `json:"result"`
}

// instanceIDs lists the ids of the instances of one process created in
// [from, to), 20 a page, in spans of at most 120 days; a from older than
// 365 days is moved up, since the API serves no more.
func (c *Connector) instanceIDs(ctx context.Context, code string, from, to time.Time) ([]string, error) {
	if oldest := c.now().Add(-maxInstanceAge).Add(time.Hour); from.Before(oldest) {
		from = oldest
	}
	var ids []string
	for _, span := range splitWindowRange(from, to, maxInstanceSpan) {
		next := int64(0)
		for {
			req := instanceIDsRequest{
				ProcessCode: code,
				StartTime:   span[0].UnixMilli(),
				EndTime:     span[1].UnixMilli(),
				NextToken:   next,
				MaxResults:  maxInstancesPerPage,
			}
			var resp instanceIDsResponse
			if err := c.client.callV1(ctx, http.MethodPost, apiInstanceIDs, nil, req, &resp); err != nil {
				return ids, fmt.Errorf("dingtalk: list instances of %s from %s to %s: %w",
					code, span[0].Format(time.RFC3339), span[1].Format(time.RFC3339), err)
			}
			for _, id := range resp.Result.List {
				if id != "" {
					ids = append(ids, string(id))
				}
			}
			tok := strings.TrimSpace(string(resp.Result.NextToken))
			if tok == "" || len(resp.Result.List) == 0 {
				break
			}
			var n lenient.Int
			if err := n.UnmarshalJSON([]byte(tok)); err != nil || int64(n) <= next {
				return ids, fmt.Errorf("dingtalk: list instances of %s: nextToken %q does not move forward from %d", code, tok, next)
			}
			next = int64(n)
		}
	}
	return ids, nil
}

// splitWindowRange cuts [from, to) into spans of at most size.
func splitWindowRange(from, to time.Time, size time.Duration) [][2]time.Time {
	var out [][2]time.Time
	for f := from; f.Before(to); f = f.Add(size) {
		t := f.Add(size)
		if t.After(to) {
			t = to
		}
		out = append(out, [2]time.Time{f, t})
	}
	return out
}

// instance is the result of get instance (v1.0 workflow/processInstances,
// platform API reference A3), decoded leniently.
type instance struct {
	ID                         string           `json:"-"`
	Title                      lenient.String   `json:"title"`
	OriginatorUserID           lenient.String   `json:"originatorUserId"`
	Status                     lenient.String   `json:"status"`
	Result                     lenient.String   `json:"result"`
	BizAction                  lenient.String   `json:"bizAction"`
	BusinessID                 lenient.String   `json:"businessId"`
	MainProcessInstanceID      lenient.String   `json:"mainProcessInstanceId"`
	AttachedProcessInstanceIDs []lenient.String `json:"attachedProcessInstanceIds"`
	OperationRecords           []operation      `json:"operationRecords"`
	FormComponentValues        []formComponent  `json:"formComponentValues"`
	CreateTime                 lenient.String   `json:"createTime"`
	FinishTime                 lenient.String   `json:"finishTime"`
	raw                        []byte           // the result object, for form paths
	attached                   []instance       // the attached instances, when fetched
}

type operation struct {
	Type   lenient.String `json:"type"`
	Result lenient.String `json:"result"`
	Date   lenient.String `json:"date"`
}

type formComponent struct {
	ID            lenient.String `json:"id"`
	Name          lenient.String `json:"name"`
	Value         lenient.String `json:"value"`
	ExtValue      lenient.String `json:"extValue"`
	ComponentType lenient.String `json:"componentType"`
	BizAlias      lenient.String `json:"bizAlias"`
}

type instanceResponse struct {
	Result rawInstance `json:"result"`
}

// rawInstance decodes an instance and keeps its JSON.
type rawInstance struct{ inst instance }

func (r *rawInstance) UnmarshalJSON(b []byte) error {
	type plain instance
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	r.inst = instance(p)
	r.inst.raw = append([]byte(nil), b...)
	return nil
}

// getInstance reads one process instance.
func (c *Connector) getInstance(ctx context.Context, id string) (instance, error) {
	var resp instanceResponse
	q := url.Values{"processInstanceId": {id}}
	if err := c.client.callV1(ctx, http.MethodGet, apiInstance, q, nil, &resp); err != nil {
		return instance{}, fmt.Errorf("dingtalk: get approval instance %s: %w", id, err)
	}
	inst := resp.Result.inst
	inst.ID = id
	return inst, nil
}

// getInstanceFull reads an instance and the instances attached to it
// (revoke and modify requests), which can change what it means.
func (c *Connector) getInstanceFull(ctx context.Context, id string) (instance, error) {
	inst, err := c.getInstance(ctx, id)
	if err != nil {
		return inst, err
	}
	for _, a := range inst.AttachedProcessInstanceIDs {
		if a == "" || string(a) == id {
			continue
		}
		att, err := c.getInstance(ctx, string(a))
		if err != nil {
			return inst, err
		}
		inst.attached = append(inst.attached, att)
	}
	return inst, nil
}
