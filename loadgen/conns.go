package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sender sends one request and returns the status and body of the reply.
type Sender interface {
	Send(ctx context.Context, r Sealed, timeout time.Duration) (status int, body []byte, err error)
}

// Client is a Sender over an http.Client, for any URL (https included).
type Client struct{ HTTP *http.Client }

// Send implements Sender.
func (c Client) Send(ctx context.Context, r Sealed, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return 0, nil, fmt.Errorf("read the reply: %w", err)
	}
	return resp.StatusCode, body, nil
}

// maxReply bounds the reply body a sender reads.
const maxReply = 1 << 20

// Conns is a Sender over plain-HTTP keep-alive connections it holds
// itself: a request is written as one buffer and its reply read by
// readReply, with no goroutines or channels per connection. It
// costs the load tool a fraction of the CPU net/http's client does, so
// that more of the cores the tool shares with the server go to the server.
// It is safe for concurrent use.
type Conns struct {
	host   string // host:port
	prefix string // "http://" + host, which every request URL starts with
	idle   chan *conn
}

type conn struct {
	c   net.Conn
	br  *bufio.Reader
	buf []byte
}

// NewConns returns a Conns for the server of baseURL, an http:// URL,
// keeping up to size idle connections.
func NewConns(baseURL string, size int) (*Conns, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("loadgen: url %q: %w", baseURL, err)
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("loadgen: url %q: plain connections need an http:// URL with a host; use Client for others", baseURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	return &Conns{host: host, prefix: "http://" + u.Host, idle: make(chan *conn, max(size, 1))}, nil
}

// Send implements Sender. A connection that failed, or that the server
// asked to close, is not used again.
func (p *Conns) Send(ctx context.Context, r Sealed, timeout time.Duration) (int, []byte, error) {
	uri, ok := strings.CutPrefix(r.URL, p.prefix)
	if uri == "" || uri[0] == '?' {
		uri = "/" + uri // the server's root
	}
	if !ok || uri[0] != '/' {
		return 0, nil, fmt.Errorf("loadgen: request URL %q is not on %s", r.URL, p.prefix)
	}
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	c, err := p.get(ctx, timeout)
	if err != nil {
		return 0, nil, err
	}
	if err := c.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		c.c.Close()
		return 0, nil, err
	}
	c.buf = appendRequest(c.buf[:0], r, uri, p.host)
	if _, err := c.c.Write(c.buf); err != nil {
		c.c.Close()
		return 0, nil, err
	}
	status, body, keep, err := readReply(c.br)
	if err != nil {
		c.c.Close()
		return 0, nil, fmt.Errorf("read the reply: %w", err)
	}
	if !keep {
		c.c.Close()
		return status, body, nil
	}
	p.put(c)
	return status, body, nil
}

// readReply reads one HTTP/1.1 response: its status, its body (sized by
// Content-Length or chunked) and whether the connection may carry another
// request. It reads no more of a reply than the load tool uses, at a third
// of http.ReadResponse's CPU: the header map and the textproto reader are
// what the load tool spent most of a reply's time on.
func readReply(br *bufio.Reader) (status int, body []byte, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	proto, rest, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
	code, _, _ := bytes.Cut(rest, []byte(" "))
	if !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(code) != 3 {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(code)); err != nil {
		return 0, nil, false, fmt.Errorf("malformed status line %q", line)
	}
	keep = string(proto) == "HTTP/1.1"
	length, chunked := -1, false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				keep = false
			}
		}
	}
	switch {
	case status/100 == 1 || status == http.StatusNoContent || status == http.StatusNotModified:
		// No body, whatever the headers say.
	case chunked:
		body, err = io.ReadAll(io.LimitReader(httputil.NewChunkedReader(br), maxReply))
		if err == nil {
			// The trailer: none is sent to a load tool, but its blank
			// line ends the reply.
			for {
				line, rerr := br.ReadSlice('\n')
				if rerr != nil {
					return 0, nil, false, rerr
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					break
				}
			}
		}
	case length > maxReply:
		return 0, nil, false, fmt.Errorf("a reply of %d bytes, more than the %d read", length, maxReply)
	case length >= 0:
		body = make([]byte, length)
		_, err = io.ReadFull(br, body)
	default:
		// No length: the body runs to the end of the connection.
		body, err = io.ReadAll(io.LimitReader(br, maxReply))
		keep = false
	}
	if err != nil {
		return 0, nil, false, err
	}
	return status, body, keep, nil
}

// Close closes the idle connections.
func (p *Conns) Close() {
	for {
		select {
		case c := <-p.idle:
			c.c.Close()
		default:
			return
		}
	}
}

func (p *Conns) get(ctx context.Context, timeout time.Duration) (*conn, error) {
	select {
	case c := <-p.idle:
		return c, nil
	default:
	}
	d := net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", p.host)
	if err != nil {
		return nil, err
	}
	return &conn{c: nc, br: bufio.NewReaderSize(nc, 4096)}, nil
}

func (p *Conns) put(c *conn) {
	select {
	case p.idle <- c:
	default:
		c.c.Close()
	}
}

// appendRequest appends r as an HTTP/1.1 request for uri on host.
func appendRequest(b []byte, r Sealed, uri, host string) []byte {
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for k, vs := range r.Header {
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(r.Body)), 10)
	b = append(b, "\r\n\r\n"...)
	return append(b, r.Body...)
}
