package dingtalk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/mapping"
)

// Instance states and results of the workflow API (platform API reference
// A3). The old API adds NEW and CANCELED.
const (
	instRunning    = "RUNNING"
	instNew        = "NEW"
	instCompleted  = "COMPLETED"
	instTerminated = "TERMINATED"
	instCanceled   = "CANCELED"
	resultAgree    = "agree"
	resultRefuse   = "refuse"
	actionRevoke   = "REVOKE"
	actionModify   = "MODIFY"
)

// ApprovalID is the event id of an approval or make-up: the process
// instance id, so that each status change is a new revision of one event.
func ApprovalID(corpID string, kind mapping.Kind, instanceID string) string {
	return Platform + "/" + corpID + "/" + string(kind) + "/" + instanceID
}

// instanceStatus maps an instance to a status and the time it took it:
// RUNNING → pending (at creation); COMPLETED+agree → approved and
// COMPLETED+refuse → rejected (at finish); TERMINATED → revoked; and an
// attached revoke request (bizAction REVOKE) that was approved revokes the
// instance, at the revoke's finish. An approved modify request (bizAction
// MODIFY) replaces it: the modified instance is its own approval, so this
// one is revoked too. ok is false for a state the docs do not list.
func instanceStatus(inst instance) (st mapping.Status, at time.Time, ok bool) {
	return approvalStatus(inst, "")
}

// approvalStatus is instanceStatus with the status the inbound mapping
// read (mapped, "" for none) in charge: a valid one decides, at creation
// for pending and at the finish otherwise. An approved revoke or modify
// request still revokes, since the mapping reads the instance's own
// payload only and cannot see the attached instance's result.
func approvalStatus(inst instance, mapped mapping.Status) (st mapping.Status, at time.Time, ok bool) {
	for _, a := range inst.attached {
		action := strings.ToUpper(string(a.BizAction))
		if (action == actionRevoke || action == actionModify) && decided(a) == resultAgree {
			return mapping.StatusRevoked, instanceTime(string(a.FinishTime)), true
		}
	}
	created, finished := instanceTime(string(inst.CreateTime)), instanceTime(string(inst.FinishTime))
	if finished.IsZero() {
		finished = created
	}
	switch mapped {
	case mapping.StatusPending:
		return mapped, created, true
	case mapping.StatusApproved, mapping.StatusRejected, mapping.StatusRevoked:
		return mapped, finished, true
	}
	switch strings.ToUpper(string(inst.Status)) {
	case instRunning, instNew:
		return mapping.StatusPending, created, true
	case instTerminated, instCanceled:
		return mapping.StatusRevoked, finished, true
	case instCompleted:
		switch decided(inst) {
		case resultAgree:
			return mapping.StatusApproved, finished, true
		case resultRefuse:
			return mapping.StatusRejected, finished, true
		}
	}
	return "", time.Time{}, false
}

// decided returns agree or refuse for a completed instance: its result,
// or, when that is empty (not seen, but not excluded by the docs either),
// the last agree/refuse among its operation records.
func decided(inst instance) string {
	if strings.ToUpper(string(inst.Status)) != instCompleted {
		return ""
	}
	if r := strings.ToLower(string(inst.Result)); r == resultAgree || r == resultRefuse {
		return r
	}
	for i := len(inst.OperationRecords) - 1; i >= 0; i-- {
		switch strings.ToLower(string(inst.OperationRecords[i].Result)) {
		case resultAgree:
			return resultAgree
		case resultRefuse:
			return resultRefuse
		}
	}
	return ""
}

// instanceEvent maps an instance of process code (or "" when unknown)
// to its event through the inbound mapping, which says whether it is an
// approval or a make-up. ok is false for an instance the mapping does not
// recognise as attendance, one whose type it cannot read, and one in an
// unknown state; each is logged and skipped. A form that lacks a fact
// still gives its event with the fact left zero, so that validation keeps
// it as rejected, naming the field, instead of it vanishing.
func (c *Connector) instanceEvent(inst instance, code string, via mapping.Via, received time.Time) (mapping.Event, bool) {
	log := c.log.With("instance", inst.ID, "process_code", code)
	f, err := c.forms.read(code, inst.raw)
	switch {
	case errors.Is(err, mapping.ErrSkip):
		log.Debug("approval instance is not attendance, skipped")
		return mapping.Event{}, false
	case err != nil && f.Kind == "":
		log.Warn("approval form not mapped, skipped", "error", err)
		return mapping.Event{}, false
	case err != nil:
		log.Warn("approval form not fully mapped", "error", err)
	}
	st, at, ok := approvalStatus(inst, f.Status)
	if !ok {
		log.Warn("approval instance in an unknown state skipped", "status", string(inst.Status), "result", string(inst.Result))
		return mapping.Event{}, false
	}
	ev := mapping.Event{
		Schema:     mapping.EventSchema,
		Kind:       f.Kind,
		ID:         ApprovalID(c.cfg.CorpID, f.Kind, inst.ID),
		Platform:   Platform,
		Connector:  c.name,
		Tenant:     c.cfg.CorpID,
		UserID:     string(inst.OriginatorUserID),
		Time:       at,
		ReceivedAt: received,
		Via:        via,
	}
	if f.Kind == mapping.KindMakeup {
		// A make-up's time is the corrected punch.
		ev.Time = f.Time
		ev.Makeup = &mapping.Makeup{Direction: f.Direction, Status: st, ApprovalID: inst.ID, Reason: f.Reason}
		return ev, true
	}
	ev.Approval = &mapping.Approval{
		Type:            f.Type,
		LeaveType:       f.LeaveType,
		Status:          st,
		Start:           f.Start,
		End:             f.End,
		DurationMinutes: f.DurationMinutes,
		ApprovalID:      inst.ID,
	}
	return ev, true
}

// processType returns what a process code means: its type in the inbound
// mapping's templates:, or "" for a code the connector does not read.
func (c *Connector) processType(code string) string { return c.procTypes[code] }

// instanceEvents fetches an instance (and its attachments) and returns the
// events it yields. A revoke or modify request stands for its main
// instance, which is read and returned instead.
func (c *Connector) instanceEvents(ctx context.Context, id, code string, via mapping.Via) ([]mapping.Event, error) {
	inst, err := c.getInstanceFull(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []mapping.Event
	action := strings.ToUpper(string(inst.BizAction))
	main := string(inst.MainProcessInstanceID)
	if (action == actionRevoke || action == actionModify) && main != "" && main != id {
		mainInst, err := c.getInstanceFull(ctx, main)
		if err != nil {
			return nil, err
		}
		if ev, ok := c.instanceEvent(mainInst, code, via, c.now()); ok {
			out = append(out, ev)
		}
		if action == actionRevoke {
			return out, nil // a revoke request is no approval of its own
		}
	}
	if ev, ok := c.instanceEvent(inst, code, via, c.now()); ok {
		out = append(out, ev)
	}
	// With cfg.Users set, approvals of other users are not this
	// connector's, as their punches are not.
	kept := out[:0]
	for _, ev := range out {
		if len(c.ownUsers([]string{ev.UserID})) > 0 {
			kept = append(kept, ev)
		}
	}
	return kept, nil
}

// finalCache remembers the instances a pull has emitted in a final state
// (approved, rejected, revoked), so that later pulls of an overlapping
// window do not read them again: each read counts against the monthly
// quota. A later revoke arrives as a new instance and reads the main one
// again. It holds at most limit ids and starts over when full.
type finalCache struct {
	mu    sync.Mutex
	limit int
	ids   map[string]bool
}

func newFinalCache(limit int) *finalCache { return &finalCache{limit: limit, ids: map[string]bool{}} }

func (f *finalCache) has(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

func (f *finalCache) add(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.ids)+len(ids) > f.limit {
		f.ids = map[string]bool{}
	}
	for _, id := range ids {
		f.ids[id] = true
	}
}

// approvalBatch is how many approval events a pull emits at once.
const approvalBatch = 20

// pullApprovals lists the instances of every configured process created
// in [w.From − approval_lookback, w.To), reads each one not already known
// final, and emits their events. It returns how many it emitted.
func (c *Connector) pullApprovals(ctx context.Context, w connectors.Window, emit connectors.EmitFunc) (int, error) {
	if len(c.procTypes) == 0 {
		return 0, nil
	}
	from := w.From.Add(-c.cfg.ApprovalLookback)
	emitted := 0
	var batch []mapping.Event
	var final []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := emit(ctx, batch); err != nil {
			return fmt.Errorf("dingtalk: emit %d approval events: %w", len(batch), err)
		}
		emitted += len(batch)
		c.final.add(final...)
		batch, final = nil, nil
		return nil
	}
	for _, code := range sortedCodes(c.procTypes) {
		ids, err := c.instanceIDs(ctx, code, from, w.To)
		if err != nil {
			return emitted, err
		}
		for _, id := range ids {
			if c.final.has(id) {
				continue
			}
			evs, err := c.instanceEvents(ctx, id, code, mapping.ViaPull)
			if err != nil {
				return emitted, err
			}
			done := true
			for _, ev := range evs {
				batch = append(batch, ev)
				done = done && isFinal(ev)
			}
			if done {
				final = append(final, id)
			}
			if len(batch) >= approvalBatch {
				if err := flush(); err != nil {
					return emitted, err
				}
			}
		}
	}
	return emitted, flush()
}

func isFinal(ev mapping.Event) bool {
	var st mapping.Status
	switch {
	case ev.Approval != nil:
		st = ev.Approval.Status
	case ev.Makeup != nil:
		st = ev.Makeup.Status
	}
	return st == mapping.StatusApproved || st == mapping.StatusRejected || st == mapping.StatusRevoked
}

func sortedCodes(m map[string]string) []string {
	return sortedKeys(m)
}
