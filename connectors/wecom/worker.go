package wecom

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/punchbridge/punchbridge/connectors"
)

// workerAttempts bounds the fetches of one queued approval; what still
// fails is left to the next pull.
const workerAttempts = 4

// Work fetches the details of the approvals whose callbacks were
// acknowledged, one at a time, and ingests their events (via webhook). A
// fetch or ingest that fails is tried again after 1, 2 and 4 retry_wait
// units; a permanent failure (no permission, bad request) is not. Work
// returns nil when ctx ends; approvals still queued then are read by the
// next pull.
func (c *Connector) Work(ctx context.Context, ingest connectors.EmitFunc) error {
	if c.tasks != nil {
		return c.workTasks(ctx, ingest)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case spNo := <-c.pending.ch:
			c.pending.taken(spNo)
			c.fetchQueued(ctx, spNo, ingest)
		}
	}
}

// fetchQueued stores one queued approval, with retries.
func (c *Connector) fetchQueued(ctx context.Context, spNo string, ingest connectors.EmitFunc) {
	wait := c.cfg.RetryWait
	for attempt := 1; ; attempt++ {
		err := c.storeApproval(ctx, spNo, ingest)
		if err == nil {
			c.client.countCallback("details_stored")
			return
		}
		if ctx.Err() != nil {
			return
		}
		if attempt == workerAttempts || errors.Is(err, connectors.ErrPermanent) {
			c.client.countCallback("details_failed")
			c.log.Error("approval details not stored; the next pull reads them", "sp_no", spNo, "attempts", attempt, "error", err)
			return
		}
		if c.client.sleep(ctx, wait) != nil {
			return
		}
		wait *= 2
	}
}

// Queued reports how many approvals wait for their details.
func (c *Connector) Queued() int { return c.pending.len() }

// queue is the bounded set of sp_nos waiting for Work. An sp_no already
// waiting is not queued twice: one fetch reads the latest status. It is
// safe for concurrent use.
type queue struct {
	mu      sync.Mutex
	waiting map[string]bool
	ch      chan string
}

func newQueue(n int) *queue {
	return &queue{waiting: map[string]bool{}, ch: make(chan string, n)}
}

// push queues spNo and reports false only when the queue is full.
func (q *queue) push(spNo string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.waiting[spNo] {
		return true
	}
	select {
	case q.ch <- spNo:
		q.waiting[spNo] = true
		return true
	default:
		return false
	}
}

// taken marks spNo as being fetched: a status change arriving from now on
// queues it again, because the fetch under way may read the older status.
func (q *queue) taken(spNo string) {
	q.mu.Lock()
	delete(q.waiting, spNo)
	q.mu.Unlock()
}

func (q *queue) len() int { return len(q.ch) }

// taskApproval is the kind of the durable task "fetch this approval".
const taskApproval = "approval"

// taskPoll is how often Work looks for due tasks besides being woken by a
// callback: tasks stored by other replicas, and retries coming due.
const taskPoll = 5 * time.Second

// workTasks does the stored follow-ups: at start (what a crashed replica
// left), whenever a callback stores one, and every taskPoll.
func (c *Connector) workTasks(ctx context.Context, ingest connectors.EmitFunc) error {
	tick := time.NewTicker(taskPoll)
	defer tick.Stop()
	for {
		c.runDueTasks(ctx, ingest)
		select {
		case <-ctx.Done():
			return nil
		case <-c.nudge:
		case <-tick.C:
		}
	}
}

// runDueTasks fetches and stores each due approval; a failure is retried
// after 1, 2 and 4 retry_wait units, and given up (to the next pull) after
// workerAttempts or at once when it is permanent.
func (c *Connector) runDueTasks(ctx context.Context, ingest connectors.EmitFunc) {
	due, err := c.tasks.DueTasks(ctx, c.name, c.now(), 100)
	if err != nil {
		c.log.Error("reading due tasks failed", "error", err)
		return
	}
	for _, t := range due {
		err := c.storeApproval(ctx, t.Key, ingest)
		switch {
		case err == nil:
			c.client.countCallback("details_stored")
		case t.Attempts+1 >= workerAttempts || errors.Is(err, connectors.ErrPermanent):
			c.client.countCallback("details_failed")
			c.log.Error("approval details not stored; the next pull reads them", "sp_no", t.Key, "attempts", t.Attempts+1, "error", err)
		default:
			next := c.now().Add(c.cfg.RetryWait << t.Attempts)
			if rerr := c.tasks.RetryTask(ctx, t.ID, err.Error(), next); rerr != nil {
				c.log.Error("task retry not recorded", "sp_no", t.Key, "error", rerr)
			}
			continue
		}
		if ferr := c.tasks.FinishTask(ctx, t.ID); ferr != nil {
			c.log.Error("finished task not removed", "sp_no", t.Key, "error", ferr)
		}
	}
}
