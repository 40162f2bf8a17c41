// Package coord is the Redis-backed coordination between Punchbridge
// replicas: event dedupe claims, delivery claims, distributed locks with
// owner tokens (including one lock per cron tick), and the shared
// access-token cache with single-flight refresh. Every key is built in
// keys.go under a configurable prefix ("pb:" by default).
//
// Redis coordinates; it is never the durable truth. The ledger's unique
// keys and delivery log decide what happened, and Redis only keeps two
// replicas from doing the same work at the same moment. Hence the shape of
// every primitive here: claim (SET NX with a short lease) → do the durable
// work → mark the claim done, or release it when the work failed so that a
// retry is not mistaken for a duplicate. Only a done claim makes a later
// copy a duplicate; a claim whose holder died lapses with its lease. A
// dedupe that drops on "seen" alone would break at-least-once delivery.
//
// Every Redis change that depends on who holds a key (refresh, release,
// mark done) is one small Lua script that compares the caller's owner
// token first, so a replica whose lock expired can never remove or extend
// the lock of the replica that took it over.
//
// Errors from Redis that mean it cannot be reached — refused or reset
// connections, timeouts, a closed client, a server still loading or
// failing over — wrap ErrUnavailable. Webhook handlers answer 503 on it
// so the platform retries; pulls fail the run so the scheduler retries.
//
// All types are safe for concurrent use unless their comment says
// otherwise.
package coord
