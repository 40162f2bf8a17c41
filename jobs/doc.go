// Package jobs runs Punchbridge's scheduled work. Sync is the nightly job:
// refresh identities from platform directories, pull every source since its
// checkpoint minus a look-back window, reconcile the days that became final
// or were touched by new events, and push changed day records through the
// outbox to every sink. Each job is a plain Run(ctx, now) method; the cron
// Scheduler is only an adapter that calls it on schedule.
package jobs
