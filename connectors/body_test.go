package connectors

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestReadBody(t *testing.T) {
	const limit = 10
	for _, tc := range []struct {
		name    string
		body    string
		length  int64 // the announced Content-Length; -1 for none
		want    string
		wantErr error
	}{
		{"announced", "hello", 5, "hello", nil},
		{"empty", "", 0, "", nil},
		{"at the limit", "0123456789", 10, "0123456789", nil},
		{"unannounced", "hello", -1, "hello", nil},
		{"unannounced, over the limit", "0123456789abc", -1, "0123456789a", nil},
		{"announced over the limit", "0123456789abc", 13, "0123456789a", nil},
		{"shorter than announced", "hel", 5, "", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/hook", io.NopCloser(strings.NewReader(tc.body)))
			r.ContentLength = tc.length
			got, err := ReadBody(r, limit)
			if !errors.Is(err, tc.wantErr) || !bytes.Equal(got, []byte(tc.want)) {
				t.Fatalf("ReadBody = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
