package dingtalk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/punchbridge/punchbridge/mapping"
)

// taskInstance is the kind of the durable task "read this approval
// instance"; its key is the instance id, the process code and the via,
// tab-separated.
const taskInstance = "instance"

// taskPoll is how often Work looks for stored tasks besides being woken by
// a push: tasks other replicas stored, and those a crash left behind.
const taskPoll = 5 * time.Second

// storeTasks stores the approval-instance jobs as tasks before the push is
// acknowledged: an approval event carries no facts of its own, so the
// stored task is what makes the acknowledgement durable. The jobs are
// queued by loadTasks from the store instead of directly; the other jobs
// (a punch's full record, a re-pull of days) refine facts already stored
// and stay in memory, the next scheduled pull covering their loss.
func (c *Connector) storeTasks(ctx context.Context, jobs []job) ([]job, error) {
	if c.tasks == nil || !slices.ContainsFunc(jobs, func(j job) bool { return j.kind == jobInstance }) {
		return jobs, nil // every push of a punch comes here
	}
	rest := jobs[:0:0]
	stored := false
	for _, j := range jobs {
		if j.kind != jobInstance {
			rest = append(rest, j)
			continue
		}
		key := j.instance + "\t" + j.code + "\t" + string(j.via)
		if err := c.tasks.AddTask(ctx, c.name, taskInstance, key); err != nil {
			return nil, fmt.Errorf("dingtalk: store the refresh of instance %s: %w", j.instance, err)
		}
		stored = true
	}
	if stored {
		select {
		case c.taskNudge <- struct{}{}:
		default:
		}
	}
	return rest, nil
}

// loadTasks queues the stored tasks that are due and not yet queued here,
// at start, when a push stored one, and every taskPoll, until ctx ends.
func (c *Connector) loadTasks(ctx context.Context) {
	tick := time.NewTicker(taskPoll)
	defer tick.Stop()
	for {
		due, err := c.tasks.DueTasks(ctx, c.name, c.now(), 200)
		if err != nil && ctx.Err() == nil {
			c.log.Error("reading stored tasks failed", "err", err)
		}
		var jobs []job
		for _, t := range due {
			if _, queued := c.loaded.LoadOrStore(t.ID, true); queued || t.Kind != taskInstance {
				continue
			}
			parts := strings.SplitN(t.Key, "\t", 3)
			for len(parts) < 3 {
				parts = append(parts, "")
			}
			jobs = append(jobs, job{kind: jobInstance, instance: parts[0], code: parts[1], via: mapping.Via(parts[2]), due: c.now(), task: t.ID})
		}
		if !c.queue.push(jobs...) {
			for _, j := range jobs {
				c.loaded.Delete(j.task) // try again on the next round
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.taskNudge:
		case <-tick.C:
		}
	}
}

// finishTask removes a job's stored task once the job is done or given up.
func (c *Connector) finishTask(ctx context.Context, j job) {
	if j.task == 0 || c.tasks == nil {
		return
	}
	if err := c.tasks.FinishTask(context.WithoutCancel(ctx), j.task); err != nil {
		c.log.Error("finished task not removed", "instance", j.instance, "err", err)
		return
	}
	c.loaded.Delete(j.task)
}
