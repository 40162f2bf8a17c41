package connectors

import (
	"io"
	"net/http"
)

// ReadBody returns what io.ReadAll(io.LimitReader(r.Body, limit+1)) does —
// the body, or its first limit+1 bytes when it is longer, so that the
// caller refuses a body over limit by its length — but reads a body that
// announces its length into one buffer of that size: a webhook reads one
// body a delivery, and ReadAll's growing from 512 bytes allocated twice
// what a delivery holds.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= limit {
		// net/http ends a body at its Content-Length.
		body := make([]byte, n)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, limit+1))
}
