package coord

import (
	"strconv"
	"strings"
	"time"
)

// DefaultPrefix starts every key when the configured prefix is empty.
const DefaultPrefix = "pb:"

// Keys builds every Redis key Punchbridge uses; no other file spells one.
// Variable parts are escaped ("%" → "%25", ":" → "%3A") so that a colon
// inside an id can never make two different inputs share a key. The zero
// value uses DefaultPrefix.
type Keys struct {
	prefix string
}

// NewKeys returns a key builder under prefix, or under DefaultPrefix when
// prefix is empty. Replicas that share work must share a prefix; distinct
// deployments on one Redis use distinct prefixes.
func NewKeys(prefix string) Keys {
	return Keys{prefix: prefix}
}

// Prefix returns the prefix every key starts with.
func (k Keys) Prefix() string {
	if k.prefix == "" {
		return DefaultPrefix
	}
	return k.prefix
}

// Dedupe is the claim on one event: <prefix>dedupe:<event id>:<fingerprint>.
// The fingerprint (mapping.Fingerprint) is part of the key so that a
// corrected event with the same id is a new claim, not a duplicate.
func (k Keys) Dedupe(eventID, fingerprint string) string {
	return k.join("dedupe", eventID, fingerprint)
}

// Deliver is the claim on one delivery:
// <prefix>deliver:<sink>:<employee>:<date>:<shift>:v<version>. It holds an
// owner token while a replica sends, then "done" once the sink has
// acknowledged.
func (k Keys) Deliver(d DeliveryKey) string {
	return k.join("deliver", d.Sink, d.EmployeeID, d.Date, d.Shift) + ":v" + strconv.Itoa(d.Version)
}

// Lock is a named distributed lock: <prefix>lock:<name>. Its value is the
// owner's random token.
func (k Keys) Lock(name string) string {
	return k.join("lock", name)
}

// Token is a cached platform access token:
// <prefix>token:<platform>:<tenant>:<app>. cacheKey is the connectors'
// TokenCache key "platform/tenant/app"; each "/"-separated part becomes
// one escaped key segment.
func (k Keys) Token(cacheKey string) string {
	return k.join("token", strings.Split(cacheKey, "/")...)
}

// TokenLock is the short lock held by the one replica refreshing a token:
// <prefix>tokenlock:<platform>:<tenant>:<app>.
func (k Keys) TokenLock(cacheKey string) string {
	return k.join("tokenlock", strings.Split(cacheKey, "/")...)
}

// Tick marks one scheduled run of a cron job as taken:
// <prefix>tick:<job>:<tick unix seconds>. It is kept until it expires, so a
// replica firing the same tick late cannot run it again.
func (k Keys) Tick(job string, tick time.Time) string {
	return k.join("tick", job) + ":" + strconv.FormatInt(tick.Unix(), 10)
}

// join builds <prefix><kind>:<part>:<part>... with every part escaped.
func (k Keys) join(kind string, parts ...string) string {
	// One allocation for the common key without escapes: every webhook
	// and pulled event builds one to claim and one to commit.
	n := len(k.Prefix()) + len(kind)
	for _, p := range parts {
		n += 1 + len(p)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(k.Prefix())
	b.WriteString(kind)
	for _, p := range parts {
		b.WriteByte(':')
		b.WriteString(escapeSegment(p))
	}
	return b.String()
}

var segmentEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// escapeSegment keeps a key segment free of the ":" separator; escaping
// "%" too keeps the mapping one-to-one.
func escapeSegment(s string) string {
	if !strings.ContainsAny(s, "%:") {
		return s
	}
	return segmentEscaper.Replace(s)
}
