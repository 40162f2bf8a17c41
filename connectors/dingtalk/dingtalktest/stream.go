package dingtalktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// streamPath is where the fake's Stream endpoint listens; the gateway
// answers ws://<host>/gateway/stream as the endpoint.
const streamPath = "gateway/stream"

// Subscription is one entry of a connections/open request.
type Subscription struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
}

// StreamAck is a client's answer to one frame.
type StreamAck struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

// Status reads the event status of an EVENT ack's data: SUCCESS, or
// LATER to have the frame delivered again.
func (a StreamAck) Status() string {
	var d struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal([]byte(a.Data), &d)
	return d.Status
}

// streamFrame is one frame the gateway sends.
type streamFrame struct {
	SpecVersion string            `json:"specVersion"`
	Type        string            `json:"type"`
	Time        int64             `json:"time"`
	Headers     map[string]string `json:"headers"`
	Data        string            `json:"data"`
}

// streamHub holds the fake gateway's state: issued tickets, live
// connections, frames waiting for an ack, and the acks received.
type streamHub struct {
	mu       sync.Mutex
	tickets  map[string]bool
	conns    map[*streamConn]bool
	pending  []streamFrame // sent or queued, not yet acked SUCCESS
	acks     map[string]StreamAck
	changed  chan struct{} // closed and replaced on every ack or connection
	opens    int
	connects int
	subs     []Subscription
	next     int
}

type streamConn struct {
	out chan streamFrame
}

func newStreamHub() *streamHub {
	return &streamHub{tickets: map[string]bool{}, conns: map[*streamConn]bool{}, acks: map[string]StreamAck{}, changed: make(chan struct{})}
}

// signal wakes the waiters; the caller holds mu.
func (h *streamHub) signal() {
	close(h.changed)
	h.changed = make(chan struct{})
}

type openBody struct {
	ClientID      string         `json:"clientId"`
	ClientSecret  string         `json:"clientSecret"`
	Subscriptions []Subscription `json:"subscriptions"`
	UA            string         `json:"ua"`
	LocalIP       string         `json:"localIp"`
}

// openConnection serves POST /v1.0/gateway/connections/open: it checks the
// app key and secret and answers an endpoint and a one-time ticket.
func (s *Server) openConnection(w http.ResponseWriter, r *http.Request) {
	var b openBody
	if err := decodeBody(r, &b); err != nil {
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "请求体不是合法的JSON")
		return
	}
	if b.ClientID != s.appKey || b.ClientSecret != s.appSecret {
		writeV1Error(w, http.StatusUnauthorized, V1BadSecret, "")
		return
	}
	if len(b.Subscriptions) == 0 {
		writeV1Error(w, http.StatusBadRequest, V1BadParameter, "subscriptions不能为空")
		return
	}
	ticket := randomHex(16)
	h := s.stream
	h.mu.Lock()
	h.tickets[ticket] = true
	h.opens++
	h.subs = append([]Subscription(nil), b.Subscriptions...)
	h.mu.Unlock()
	writeJSON(w, map[string]any{"endpoint": "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/" + streamPath, "ticket": ticket})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// streamSocket serves the WebSocket: a ticket is good for one connection.
// Frames not yet acknowledged SUCCESS are sent again to every new
// connection, as the platform redelivers.
func (s *Server) streamSocket(w http.ResponseWriter, r *http.Request) {
	h := s.stream
	ticket := r.URL.Query().Get("ticket")
	h.mu.Lock()
	ok := h.tickets[ticket]
	delete(h.tickets, ticket)
	h.mu.Unlock()
	if !ok {
		http.Error(w, "invalid ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	h.mu.Lock()
	c := &streamConn{out: make(chan streamFrame, len(h.pending)+256)}
	h.conns[c] = true
	h.connects++
	for _, f := range h.pending {
		c.out <- f
	}
	h.signal()
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.signal()
		h.mu.Unlock()
	}()

	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			var ack StreamAck
			if err := ws.ReadJSON(&ack); err != nil {
				return
			}
			h.record(ack)
		}
	}()
	for {
		select {
		case <-s.done:
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server closing"), time.Now().Add(time.Second))
			return
		case <-readDone:
			return
		case f, ok := <-c.out:
			if !ok {
				return // dropped by DropStreamConnections
			}
			_ = ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := ws.WriteJSON(f); err != nil {
				return
			}
		}
	}
}

// record keeps an ack; SUCCESS (or any 200 ack of a SYSTEM frame) settles
// its frame, LATER leaves it pending for the next connection.
func (h *streamHub) record(a StreamAck) {
	id := a.Headers["messageId"]
	h.mu.Lock()
	defer h.mu.Unlock()
	h.acks[id] = a
	for i, f := range h.pending {
		if f.Headers["messageId"] != id {
			continue
		}
		if a.Code == http.StatusOK && (f.Type != "EVENT" || a.Status() == "SUCCESS") {
			h.pending = append(h.pending[:i], h.pending[i+1:]...)
		}
		break
	}
	h.signal()
}

// send queues f for every live connection; EVENT frames stay pending
// until acknowledged.
func (s *Server) send(f streamFrame) string {
	h := s.stream
	h.mu.Lock()
	defer h.mu.Unlock()
	h.next++
	id := "fakemsg-" + strconv.Itoa(h.next)
	f.SpecVersion = "1.0"
	f.Time = s.now().UnixMilli()
	f.Headers["messageId"] = id
	f.Headers["contentType"] = "application/json"
	f.Headers["time"] = strconv.FormatInt(f.Time, 10)
	if f.Type == "EVENT" {
		h.pending = append(h.pending, f)
	}
	for c := range h.conns {
		select {
		case c.out <- f:
		default: // a stuck client; the frame stays pending if it is an event
		}
	}
	return id
}

// StreamEvent sends an EVENT frame of eventType with data (JSON-encoded
// into the frame's data string) and a fresh event id, and returns the
// frame's message id.
func (s *Server) StreamEvent(eventType string, data any) string {
	return s.StreamEventWithID(eventType, "fakeevt-"+randomHex(8), data)
}

// StreamEventWithID is StreamEvent with a given event id, as a redelivery
// of the same event carries.
func (s *Server) StreamEventWithID(eventType, eventID string, data any) string {
	b, _ := json.Marshal(data)
	return s.send(streamFrame{Type: "EVENT", Data: string(b), Headers: map[string]string{
		"topic": "*", "eventType": eventType, "eventId": eventID, "eventCorpId": s.CorpID(),
		"eventUnifiedAppId": s.appKey, "eventBornTime": strconv.FormatInt(s.now().UnixMilli(), 10),
	}})
}

// StreamPing sends a SYSTEM ping, which a client answers with its data.
func (s *Server) StreamPing(data string) string {
	return s.send(streamFrame{Type: "SYSTEM", Data: data, Headers: map[string]string{"topic": "ping"}})
}

// StreamDisconnect sends a SYSTEM disconnect, after which a client
// reconnects through the gateway.
func (s *Server) StreamDisconnect() string {
	return s.send(streamFrame{Type: "SYSTEM", Data: `{"reason":"fake rebalance"}`, Headers: map[string]string{"topic": "disconnect"}})
}

// DropStreamConnections closes every live connection abruptly, as a
// network failure would.
func (s *Server) DropStreamConnections() {
	h := s.stream
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		close(c.out)
		delete(h.conns, c)
	}
}

// WaitStreamAck waits for the ack of message id.
func (s *Server) WaitStreamAck(ctx context.Context, id string) (StreamAck, error) {
	h := s.stream
	for {
		h.mu.Lock()
		a, ok := h.acks[id]
		ch := h.changed
		h.mu.Unlock()
		if ok {
			return a, nil
		}
		select {
		case <-ctx.Done():
			return StreamAck{}, errors.New("dingtalktest: no stream ack for " + id + ": " + ctx.Err().Error())
		case <-ch:
		}
	}
}

// WaitStreamConnects waits until the gateway has seen n WebSocket
// connections in all.
func (s *Server) WaitStreamConnects(ctx context.Context, n int) error {
	h := s.stream
	for {
		h.mu.Lock()
		got, live := h.connects, len(h.conns)
		ch := h.changed
		h.mu.Unlock()
		if got >= n && live > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("dingtalktest: stream connections " + strconv.Itoa(got) + ", want " + strconv.Itoa(n) + ": " + ctx.Err().Error())
		case <-ch:
		}
	}
}

// StreamConnects is how many WebSocket connections were made.
func (s *Server) StreamConnects() int {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return s.stream.connects
}

// StreamSubscriptions returns the subscriptions of the last
// connections/open request.
func (s *Server) StreamSubscriptions() []Subscription {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return append([]Subscription(nil), s.stream.subs...)
}

// StreamPending is how many EVENT frames await a SUCCESS ack.
func (s *Server) StreamPending() int {
	s.stream.mu.Lock()
	defer s.stream.mu.Unlock()
	return len(s.stream.pending)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
