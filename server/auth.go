package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Role is what an admin token may do. Each role may do what the ones
// before it may.
type Role string

// Roles.
const (
	RoleViewer   Role = "viewer"   // reads
	RoleOperator Role = "operator" // also replays the dead-letter queue, runs jobs, re-pulls windows
	RoleAdmin    Role = "admin"    // also re-maps identities and reads the audit log
)

// rank orders the roles; an unknown role has rank 0 and may do nothing.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// allows reports whether r may do what need may.
func (r Role) allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Token is one admin bearer token from the config.
type Token struct {
	Name  string // whose token it is; the audit log records it
	Value string // the secret
	Role  Role
}

// principal is who made a request.
type principal struct {
	name string
	role Role
}

// credential is a token as the server keeps it: the hash of its value (so
// that comparing takes the same time whatever the value's length) and the
// key that signs its page sessions.
type credential struct {
	name string
	role Role
	sum  [sha256.Size]byte
	key  []byte
}

// authenticator checks bearer tokens and page sessions.
type authenticator struct {
	creds []credential
}

func newAuthenticator(tokens []Token) *authenticator {
	a := &authenticator{}
	for _, t := range tokens {
		if t.Value == "" || t.Role.rank() == 0 || t.Name == "" {
			continue // config validation reports these; here they open nothing
		}
		key := sha256.Sum256([]byte("punchbridge/session-key\n" + t.Value))
		a.creds = append(a.creds, credential{name: t.Name, role: t.Role, sum: sha256.Sum256([]byte(t.Value)), key: key[:]})
	}
	return a
}

// token returns who holds value. Every configured token is compared, in
// constant time, whatever matches, so that timing tells nothing about
// which token (or how much of one) is right.
func (a *authenticator) token(value string) (principal, bool) {
	if value == "" {
		return principal{}, false
	}
	sum := sha256.Sum256([]byte(value))
	found := -1
	for i := range a.creds {
		if subtle.ConstantTimeCompare(sum[:], a.creds[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return principal{}, false
	}
	return principal{name: a.creds[found].name, role: a.creds[found].role}, true
}

// bearer returns who sent r, from its Authorization: Bearer header.
func (a *authenticator) bearer(r *http.Request) (principal, bool) {
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return principal{}, false
	}
	return a.token(strings.TrimSpace(value))
}

// A page session is a cookie "<name>.<expiry>.<mac>": the token's name
// (base64url), the expiry in Unix seconds, and an HMAC of both keyed by a
// hash of the token's value. It holds no secret, needs no server state
// (every replica with the same config accepts it), and ends when the
// token is removed from the config or changed.
const (
	sessionCookie = "pb_session"
	sessionTTL    = 12 * time.Hour
)

var b64 = base64.RawURLEncoding

func (a *authenticator) cred(name string) (credential, bool) {
	for _, c := range a.creds {
		if c.name == name {
			return c, true
		}
	}
	return credential{}, false
}

func mac(key []byte, parts ...string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(strings.Join(parts, "\n")))
	return h.Sum(nil)
}

// issue returns the cookie value of a new session of p.
func (a *authenticator) issue(p principal, now time.Time) (string, bool) {
	c, ok := a.cred(p.name)
	if !ok {
		return "", false
	}
	exp := strconv.FormatInt(now.Add(sessionTTL).Unix(), 10)
	return b64.EncodeToString([]byte(p.name)) + "." + exp + "." + b64.EncodeToString(mac(c.key, "session", p.name, exp)), true
}

// session checks a session cookie's value and returns who holds it, with
// the form token that its state-changing forms must carry.
func (a *authenticator) session(value string, now time.Time) (p principal, csrf string, ok bool) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		return principal{}, "", false
	}
	nameB, err := b64.DecodeString(parts[0])
	if err != nil {
		return principal{}, "", false
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return principal{}, "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || now.Unix() >= exp {
		return principal{}, "", false
	}
	name := string(nameB)
	c, found := a.cred(name)
	if !found || !hmac.Equal(sig, mac(c.key, "session", name, parts[1])) {
		return principal{}, "", false
	}
	return principal{name: c.name, role: c.role}, b64.EncodeToString(mac(c.key, "csrf", name, parts[1])), true
}

// Name is the token's name, for templates.
func (p principal) Name() string { return p.name }

// Role is the token's role, for templates.
func (p principal) Role() Role { return p.role }
