package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Engine error codes, sent as {"code":N,"message":"..."} to refused requests.
const (
	CodeUnknownTransport           = 0
	CodeUnknownSID                 = 1
	CodeBadHandshakeMethod         = 2
	CodeBadRequest                 = 3
	CodeForbidden                  = 4
	CodeUnsupportedProtocolVersion = 5
)

var errorMessages = [...]string{
	CodeUnknownTransport:           "Transport unknown",
	CodeUnknownSID:                 "Session ID unknown",
	CodeBadHandshakeMethod:         "Bad handshake method",
	CodeBadRequest:                 "Bad request",
	CodeForbidden:                  "Forbidden",
	CodeUnsupportedProtocolVersion: "Unsupported protocol version",
}

// ErrorMessage returns the standard message of an engine error code, or ""
// for an unknown code.
func ErrorMessage(code int) string {
	if code < 0 || code >= len(errorMessages) {
		return ""
	}
	return errorMessages[code]
}

// Close reasons reported to MessageHandler.OnClose.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
)

// Errors returned by Conn.Send and given as OnClose descriptions.
var (
	// ErrClosed is returned by Send on a session that is closing or closed.
	ErrClosed = errors.New("engine session closed")
	// ErrQueueFull reports a session closed because its outgoing queue
	// overflowed (a slow consumer).
	ErrQueueFull = errors.New("engine write queue full")
	// ErrPayloadTooLarge reports a POST body or WebSocket message larger than
	// Options.MaxHTTPBufferSize.
	ErrPayloadTooLarge = errors.New("engine payload too large")
	// ErrBadPacket reports a packet that does not follow the Engine.IO v4 encoding.
	ErrBadPacket = errors.New("invalid engine packet")
	// ErrRequestOverlap reports a second concurrent polling GET or POST of one session.
	ErrRequestOverlap = errors.New("overlapping polling request")
	// ErrPollClosed reports a pending polling GET closed by the client.
	ErrPollClosed = errors.New("poll connection closed prematurely")
	// ErrHeartbeatDirection reports a ping packet sent by the client, which
	// Engine.IO v4 forbids.
	ErrHeartbeatDirection = errors.New("invalid heartbeat direction")
)

// ConnectionError describes a request refused with an engine error code; it
// is passed to Options.OnConnectionError.
type ConnectionError struct {
	// Request is the refused request; do not retain it after the hook returns.
	Request *http.Request
	// Code is the engine error code, 0 to 5.
	Code int
	// Message is the standard message of Code, for example "Bad request".
	Message string
	// Context holds details such as "name", "sid", "transport" or "method",
	// with the keys of the reference server.
	Context map[string]any
}

// Error formats the connection error with its code and message.
func (e ConnectionError) Error() string {
	return "engine connection error " + strconv.Itoa(e.Code) + ": " + e.Message
}

// refuse reports a refused request to the hook and writes the error answer:
// JSON for plain HTTP requests, a short text body for WebSocket upgrades
// (whose clients cannot read it anyway). Forbidden is answered 403, every
// other code 400.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, ctx map[string]any, upgrade bool) {
	if s.cfg.OnConnectionError != nil {
		s.cfg.OnConnectionError(ConnectionError{Request: r, Code: code, Message: ErrorMessage(code), Context: ctx})
	}
	s.log.Debug("engine request refused", "code", code, "context", ctx, "method", r.Method, "url", r.URL.RequestURI())
	message := ErrorMessage(code)
	if m, ok := ctx["message"].(string); ok && m != "" {
		message = m
	}
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	h := w.Header()
	if upgrade {
		h.Set("Connection", "close")
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", strconv.Itoa(len(message)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(message))
		return
	}
	body := errorBody(code, message)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorBody encodes {"code":N,"message":"..."} like JSON.stringify does
// (without escaping <, > and &).
func errorBody(code int, message string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, message})
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// writeStatus answers a request of an existing session with a bare status,
// as the reference transport does for protocol violations.
func writeStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}
