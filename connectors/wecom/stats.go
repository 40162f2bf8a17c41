package wecom

import "maps"

// Stats counts the requests a connector sent, retries included: by API name
// and, per API, by outcome — the errcode ("0" is success, "-1" busy,
// "45009" over a limit, ...), "http_<status>" for a non-200 answer,
// "transport" for a network failure and "bad_json" for an unreadable
// answer. Callbacks counts the callbacks the connector received by
// outcome: "url_verification", the event name (sys_approval_change,
// change_contact, ...) for an accepted one, "replay" for a repeated POST,
// "rejected_<check>" for one that failed a check (signature, receiver,
// stale, replay, ciphertext, padding, length, body, ...), and the fate of
// queued approvals: "details_stored", "details_failed" and
// "failed_queue_full".
type Stats struct {
	Calls     map[string]int
	Codes     map[string]map[string]int
	Callbacks map[string]int
}

// countCallback counts one callback by outcome.
func (c *client) countCallback(outcome string) {
	c.mu.Lock()
	c.callbacks[outcome]++
	c.mu.Unlock()
}

// snapshot returns a copy of the counters.
func (c *client) snapshot() Stats {
	calls, codes := c.calls.Snapshot()
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Calls: calls, Codes: codes, Callbacks: maps.Clone(c.callbacks)}
}
