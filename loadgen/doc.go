// Package loadgen drives a running `punchbridge serve` the way a chat
// platform does under load: it builds webhook deliveries from a generated
// company, seals them as the platform would (signed and AES-encrypted with
// the connector's token and key), sends them at a set rate and
// concurrency, checks every reply as the platform checks it, and then
// checks through the ledger or the admin API that every event was stored
// exactly once. `punchbridge bench webhook` is its command line.
//
// A Workload is the deliveries and the event ids they must leave in the
// ledger. Run sends one through a Sender and returns a Result: requests
// and events per second, latency percentiles and failures by kind. Verify
// compares what a Store holds with what the workload expects. Conns, the
// Sender for plain HTTP, keeps its own keep-alive connections and costs a
// fraction of net/http's client, because the tool shares the machine's
// cores with the server it measures; Client serves any other URL.
//
// DingTalk deliveries are attendance_check_record HTTP pushes carrying
// --batch punches each. WeCom has no punch callback for self-built apps,
// so WeCom deliveries are sys_approval_change callbacks, one approval
// each; the approvals are stored once the connector has read their details
// from the platform, which `punchbridge bench fake` serves.
package loadgen
