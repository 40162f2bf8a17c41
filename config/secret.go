package config

import (
	"encoding/json"
	"log/slog"
)

// Secret is a credential from the config: an app secret, a token, a DSN.
// It prints, logs and marshals as "<secret>" so that a config dumped for
// debugging, an admin API answer or a log line never carries the value;
// Reveal is the one way to read it.
//
// In YAML a Secret key x may instead be written x_file: PATH, and the value
// is read from that file (its trailing newline removed), the usual way to
// mount secrets in containers.
type Secret string

const redacted = "<secret>"

// Reveal returns the secret value, for the code that sends it to a platform.
func (s Secret) Reveal() string { return string(s) }

// String redacts: "<secret>" when set, "" when not, so that a missing
// secret is still visible as missing.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts under %#v as well.
func (s Secret) GoString() string { return "config.Secret(" + `"` + s.String() + `"` + ")" }

// LogValue redacts in log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalYAML redacts.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
