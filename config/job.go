package config

import "strings"

// Spec returns the job's cron spec ready for robfig/cron's standard
// parser: the schedule with CRON_TZ=<Timezone> in front when the schedule
// names no zone of its own. With neither, the spec runs in the scheduler's
// own location.
func (j Job) Spec() string {
	s := strings.TrimSpace(j.Schedule)
	if j.Timezone == "" || hasZonePrefix(s) {
		return s
	}
	return "CRON_TZ=" + j.Timezone + " " + s
}

// hasZonePrefix reports whether a cron spec starts with CRON_TZ= or TZ=.
func hasZonePrefix(spec string) bool {
	spec = strings.TrimSpace(spec)
	return strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ=")
}
