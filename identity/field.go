package identity

import (
	"context"
	"fmt"
	"strings"

	"github.com/punchbridge/punchbridge/connectors"
)

// Field names the directory field that identifies a user: job_number,
// mobile, email, user_id, or attr:<name> for a custom attribute.
type Field string

// Fields a directory reports.
const (
	FieldJobNumber Field = "job_number"
	FieldMobile    Field = "mobile"
	FieldEmail     Field = "email"
	FieldUserID    Field = "user_id"
)

// ParseField checks a field name; "" is job_number.
func ParseField(s string) (Field, error) {
	switch f := Field(s); {
	case s == "":
		return FieldJobNumber, nil
	case f == FieldJobNumber, f == FieldMobile, f == FieldEmail, f == FieldUserID:
		return f, nil
	case strings.HasPrefix(s, "attr:") && len(s) > len("attr:"):
		return f, nil
	}
	return "", fmt.Errorf("identity field %q: use job_number, mobile, email, user_id or attr:<name>", s)
}

// Of returns u's value of the field, normalised: trimmed, an email lower
// case, a mobile without spaces or dashes.
func (f Field) Of(u connectors.User) string {
	var v string
	switch f {
	case FieldJobNumber, "":
		v = u.JobNumber
	case FieldMobile:
		v = strings.NewReplacer(" ", "", "-", "").Replace(u.Mobile)
	case FieldEmail:
		v = strings.ToLower(u.Email)
	case FieldUserID:
		v = u.UserID
	default:
		if name, ok := strings.CutPrefix(string(f), "attr:"); ok {
			v = u.Attrs[name]
		}
	}
	return strings.TrimSpace(v)
}

// normalize applies Of's rules to a key read from elsewhere (a CSV cell).
func (f Field) normalize(v string) string {
	switch f {
	case FieldMobile:
		v = strings.NewReplacer(" ", "", "-", "").Replace(v)
	case FieldEmail:
		v = strings.ToLower(v)
	}
	return strings.TrimSpace(v)
}

// Resolver gives the HR employee id of a platform user.
//
// Resolve returns "" (and no error) when the user is not mapped. An error
// means the answer is unknown for now (an HR lookup failed): the caller
// keeps the user's current mapping. Implementations are safe for
// concurrent use.
type Resolver interface {
	Resolve(ctx context.Context, platform, tenant string, u connectors.User) (string, error)
}

// DirectoryField resolves a user to one of its own directory fields: the
// directory holds the employee id itself.
type DirectoryField struct{ Field Field }

// Resolve returns the field's value.
func (d DirectoryField) Resolve(_ context.Context, _, _ string, u connectors.User) (string, error) {
	return d.Field.Of(u), nil
}
