package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tidwall/gjson"

	"github.com/punchbridge/punchbridge/connectors"
	"github.com/punchbridge/punchbridge/connectors/lenient"
	"github.com/punchbridge/punchbridge/mapping"
)

// Stream mode (platform API reference A6, "Stream mode wire basics", from
// the official Go SDK open-dingtalk/dingtalk-stream-sdk-go).
const (
	defaultKeepAlive = 120 * time.Second // the SDK pings after 120 s idle
	defaultPongWait  = 5 * time.Second   // and gives up after 5 s without a pong
	streamBackoffMin = time.Second
	streamBackoffMax = time.Minute
	streamUA         = "punchbridge-dingtalk/1"

	frameSystem   = "SYSTEM"
	frameEvent    = "EVENT"
	topicPing     = "ping"
	topicDisconn  = "disconnect"
	ackSuccess    = `{"status":"SUCCESS","message":"success"}`
	ackLater      = `{"status":"LATER","message":"later"}`
	contentJSON   = "application/json"
	headerMsgID   = "messageId"
	headerTopic   = "topic"
	headerEvType  = "eventType"
	headerEvID    = "eventId"
	headerEvCorp  = "eventCorpId"
	headerCtype   = "contentType"
	subscribeAll  = "*"
	statusOK      = 200
	statusNoRoute = 404
)

// errDisconnect: the gateway asked the client to reconnect.
var errDisconnect = errors.New("dingtalk: stream: the gateway asked to reconnect")

type subscription struct {
	Type  string `json:"type"`
	Topic string `json:"topic"`
}

type gatewayRequest struct {
	ClientID      string         `json:"clientId"`
	ClientSecret  string         `json:"clientSecret"`
	Subscriptions []subscription `json:"subscriptions"`
	UA            string         `json:"ua"`
	LocalIP       string         `json:"localIp"`
}

type gatewayResponse struct {
	Endpoint lenient.String `json:"endpoint"`
	Ticket   lenient.String `json:"ticket"`
}

// dataFrame is one frame the gateway sends; data is a JSON string.
type dataFrame struct {
	SpecVersion string                    `json:"specVersion"`
	Type        string                    `json:"type"`
	Time        lenient.Int               `json:"time"`
	Headers     map[string]lenient.String `json:"headers"`
	Data        string                    `json:"data"`
}

// frameAck answers one frame, by its message id.
type frameAck struct {
	Code    int               `json:"code"`
	Headers map[string]string `json:"headers"`
	Message string            `json:"message"`
	Data    string            `json:"data"`
}

// runStream keeps a Stream connection open until ctx ends, reconnecting
// with backoff (1 s doubling to 1 min; reset after a connection that
// worked). Only credentials the gateway refuses end it with an error.
func (c *Connector) runStream(ctx context.Context, ingest connectors.EmitFunc) error {
	backoff := streamBackoffMin
	for {
		connected, err := c.streamOnce(ctx, ingest)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrCredentials) {
			return fmt.Errorf("dingtalk: stream mode: %w", err)
		}
		if connected {
			backoff = streamBackoffMin
		}
		c.log.Warn("stream connection ended, reconnecting", "err", err, "wait", backoff.String())
		if err := c.client.sleep(ctx, backoff); err != nil {
			return nil
		}
		backoff = min(2*backoff, streamBackoffMax)
	}
}

// streamOnce opens one connection through the gateway and serves it until
// it ends. connected reports that the WebSocket was established.
func (c *Connector) streamOnce(ctx context.Context, ingest connectors.EmitFunc) (connected bool, err error) {
	var gw gatewayResponse
	req := gatewayRequest{
		ClientID:     c.cfg.AppKey,
		ClientSecret: c.cfg.AppSecret.Reveal(),
		Subscriptions: []subscription{
			{Type: frameEvent, Topic: subscribeAll},
			{Type: frameSystem, Topic: topicPing},
			{Type: frameSystem, Topic: topicDisconn},
		},
		UA: streamUA,
	}
	if err := c.client.invoke(ctx, request{api: apiStreamGateway, v1: true, body: req, noToken: true}, &gw); err != nil {
		return false, fmt.Errorf("dingtalk: stream: open connection: %w", err)
	}
	if gw.Endpoint == "" || gw.Ticket == "" {
		return false, errors.New("dingtalk: stream: the gateway answered without an endpoint or ticket")
	}
	sep := "?"
	if strings.Contains(string(gw.Endpoint), "?") {
		sep = "&"
	}
	u := string(gw.Endpoint) + sep + "ticket=" + url.QueryEscape(string(gw.Ticket))
	dialer := websocket.Dialer{HandshakeTimeout: c.cfg.Timeout, Proxy: http.ProxyFromEnvironment}
	conn, resp, err := dialer.DialContext(ctx, u, nil)
	if resp != nil && resp.Body != nil {
		drain(resp.Body)
	}
	if err != nil {
		return false, redactErr(fmt.Errorf("dingtalk: stream: connect to %s: %w", u, err))
	}
	defer conn.Close()
	c.hooks.add("stream:connected")
	c.log.Info("stream connected")
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	alive := c.streamKeepAlive + c.streamPongWait
	conn.SetReadLimit(maxBody)
	_ = conn.SetReadDeadline(time.Now().Add(alive))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(alive)) })
	pingCtx, cancelPing := context.WithCancel(ctx)
	defer cancelPing()
	go func() {
		t := time.NewTicker(c.streamKeepAlive)
		defer t.Stop()
		for {
			select {
			case <-pingCtx.Done():
				return
			case <-t.C:
				// WriteControl may run beside the reader's writes.
				_ = conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.streamPongWait))
			}
		}
	}()
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			return true, fmt.Errorf("dingtalk: stream: read: %w", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(alive))
		if typ != websocket.TextMessage {
			continue
		}
		ack, disconnect := c.frame(ctx, msg, ingest)
		if ack != nil {
			_ = conn.SetWriteDeadline(time.Now().Add(c.cfg.Timeout))
			if err := conn.WriteJSON(ack); err != nil {
				return true, fmt.Errorf("dingtalk: stream: write ack: %w", err)
			}
		}
		if disconnect {
			return true, errDisconnect
		}
	}
}

// frame handles one frame and returns its ack; disconnect asks the caller
// to reconnect. An event is acknowledged SUCCESS once its facts are
// stored and its follow-up queued, LATER (redeliver) when that failed.
func (c *Connector) frame(ctx context.Context, raw []byte, ingest connectors.EmitFunc) (ack *frameAck, disconnect bool) {
	var df dataFrame
	if err := json.Unmarshal(raw, &df); err != nil {
		c.hooks.add("stream:frame_error")
		return nil, false
	}
	h := func(k string) string { return string(df.Headers[k]) }
	ack = &frameAck{Code: statusOK, Headers: map[string]string{headerCtype: contentJSON, headerMsgID: h(headerMsgID)}, Message: "ok"}
	switch df.Type {
	case frameSystem:
		switch h(headerTopic) {
		case topicPing:
			c.hooks.add("stream:ping")
			ack.Data = df.Data
		case topicDisconn:
			c.hooks.add("stream:disconnect")
			return ack, true
		}
		return ack, false
	case frameEvent:
		payload := gjson.Parse(df.Data)
		in := inbound{Type: h(headerEvType), ID: h(headerEvID), Payload: payload, Via: mapping.ViaStream}
		if in.Type == "" {
			in.Type = first(payload, "eventType", "EventType")
		}
		if in.ID == "" {
			in.ID = first(payload, "eventId")
		}
		if corp := h(headerEvCorp); corp != "" && corp != c.cfg.CorpID {
			c.hooks.add("other_corp")
			ack.Data = ackSuccess
			return ack, false
		}
		if err := c.deliver(ctx, in, ingest); err != nil {
			c.log.Error("stream event not stored, asking for redelivery", "event_type", in.Type, "err", err)
			ack.Data = ackLater
			return ack, false
		}
		ack.Data = ackSuccess
		return ack, false
	}
	ack.Code = statusNoRoute
	ack.Message = "no handler for " + df.Type + " " + h(headerTopic)
	return ack, false
}
