//go:build wasip1

// Command chat is the flagship edged plugin: a multi-room chat on the
// namespace "/chat" with nicknames, notices, private messages, typing
// indicators, presence, moderation (kick, mute) and a per-socket rate limit.
// The events are documented in README.md. All state lives in socket.data, so
// any instance may serve any socket.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edged-io/edged/plugins/sdk"
)

func main() {}

const (
	namespace  = "/chat"
	roomPrefix = "room:" // chat room r is the Socket.IO room "room:r"
	maxText    = 500
)

var (
	nickRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,24}$`)
	roomRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

// settings is the "config" of chat.json.
type settings struct {
	ModeratorToken string `json:"moderator_token"`
	History        *int   `json:"history"` // messages kept per room; nil: 50, 0: off
	RateLimit      struct {
		Messages int   `json:"messages"`
		WindowMS int64 `json:"window_ms"`
	} `json:"rate_limit"`
}

// cfg is derived from the config at init; identical in every instance.
var cfg settings

// historyLen is the number of messages kept per room (0: no history).
var historyLen int

// member is socket.data of a chat socket.
type member struct {
	Nick       string   `json:"nick"`
	Role       string   `json:"role"` // "user" or "mod"
	Rooms      []string `json:"rooms"`
	MutedUntil int64    `json:"mutedUntil"` // epoch ms, 0 when never muted
	Rate       rate     `json:"rate"`
}

// rate is a fixed-window message counter.
type rate struct {
	Start int64 `json:"start"` // epoch ms of the window's first message
	Count int   `json:"count"`
}

func init() {
	p := &sdk.Plugin{Namespaces: []string{namespace}}
	p.OnInit(loadConfig)
	p.Use(authenticate)
	p.On("nick", handler(onNick))
	p.On("join", handler(onJoin))
	p.On("leave", handler(onLeave))
	p.On("message", handler(onMessage))
	p.On("private", handler(onPrivate))
	p.On("typing", handler(onTyping))
	p.On("presence", handler(onPresence))
	p.On("kick", handler(onKick))
	p.On("mute", handler(onMute))
	p.OnDisconnecting(onDisconnecting)
	sdk.Register(p)
}

func loadConfig() error {
	cfg = settings{}
	cfg.RateLimit.Messages = 5
	cfg.RateLimit.WindowMS = 2000
	if err := sdk.Config(&cfg); err != nil {
		return err
	}
	if cfg.RateLimit.Messages <= 0 {
		cfg.RateLimit.Messages = 5
	}
	if cfg.RateLimit.WindowMS <= 0 {
		cfg.RateLimit.WindowMS = 2000
	}
	historyLen = 50
	if cfg.History != nil {
		historyLen = min(max(*cfg.History, 0), sdk.MaxScanLimit)
	}
	return nil
}

// reply is an acknowledgement object.
type reply = map[string]any

func fail(msg string) reply { return reply{"error": msg} }

var errInvalid = fail("invalid arguments")

// call is what a chat handler sees: the socket, the event and the socket's data.
type call struct {
	s   *sdk.Socket
	e   *sdk.Event
	m   member
	now int64
}

// handler adapts a chat handler: it decodes socket.data, and turns host
// failures into a logged error and the ack {"error":"internal error"}.
func handler(fn func(c *call) (reply, error)) sdk.EventHandler {
	return func(s *sdk.Socket, e *sdk.Event) (any, error) {
		c := &call{s: s, e: e, now: sdk.NowMillis()}
		if err := s.Data(&c.m); err != nil {
			sdk.Log.Warn("bad socket data", "socket", s.ID(), "err", err.Error())
		}
		r, err := fn(c)
		if err != nil {
			sdk.Log.Error("chat handler failed", "event", e.Name, "socket", s.ID(), "err", err.Error())
			return fail("internal error"), nil
		}
		if r == nil {
			return nil, nil
		}
		return r, nil
	}
}

// nickOrNil is the nick for notices: the nickname, or null when unset.
func nickOrNil(n string) any {
	if n == "" {
		return nil
	}
	return n
}

// stringArg decodes argument i as a string; ok is false for any other type.
func stringArg(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// objectArg decodes argument 0 as a JSON object.
func objectArg(e *sdk.Event) (map[string]json.RawMessage, bool) {
	raw := e.Arg(0)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}

func validText(raw json.RawMessage) (string, bool) {
	t, ok := stringArg(raw)
	if !ok {
		return "", false
	}
	n := utf8.RuneCountInString(t)
	return t, n >= 1 && n <= maxText
}

// authenticate is the connect middleware: optional auth.nick, and
// auth.token matching the moderator token makes a moderator.
func authenticate(s *sdk.Socket) error {
	hs, err := s.Handshake()
	if err != nil {
		return err
	}
	m := member{Role: "user", Rooms: []string{}}
	if tok, _ := hs.Auth["token"].(string); tok != "" && cfg.ModeratorToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(cfg.ModeratorToken)) == 1 {
		m.Role = "mod"
	}
	if raw, ok := hs.Auth["nick"]; ok && raw != nil {
		nick, isString := raw.(string)
		if !isString || !nickRE.MatchString(nick) {
			return &sdk.ConnectError{Message: "invalid nick"}
		}
		taken, err := nickTaken(nick, s.ID())
		if err != nil {
			return err
		}
		if taken {
			return &sdk.ConnectError{Message: "nick taken"}
		}
		m.Nick = nick
	}
	return s.SetData(m)
}

// nickTaken reports whether another connected socket of the namespace uses nick.
func nickTaken(nick, self string) (bool, error) {
	list, err := sdk.Namespace(namespace).FetchSockets()
	if err != nil {
		return false, err
	}
	for i := range list {
		var m member
		if list[i].ID == self || list[i].Data(&m) != nil {
			continue
		}
		if strings.EqualFold(m.Nick, nick) {
			return true, nil
		}
	}
	return false, nil
}

// findUser returns the socket whose id or nick is who.
func findUser(who string) (*sdk.RemoteSocket, *member, error) {
	list, err := sdk.Namespace(namespace).FetchSockets()
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		var m member
		_ = list[i].Data(&m)
		if list[i].ID == who || (m.Nick != "" && strings.EqualFold(m.Nick, who)) {
			return &list[i], &m, nil
		}
	}
	return nil, nil, nil
}

func onNick(c *call) (reply, error) {
	nick, ok := stringArg(c.e.Arg(0))
	if !ok {
		return errInvalid, nil
	}
	if c.m.Nick != "" {
		return fail("nick already set"), nil
	}
	if !nickRE.MatchString(nick) {
		return fail("invalid nick"), nil
	}
	taken, err := nickTaken(nick, c.s.ID())
	if err != nil {
		return nil, err
	}
	if taken {
		return fail("nick taken"), nil
	}
	c.m.Nick = nick
	if err := c.s.SetData(c.m); err != nil {
		return nil, err
	}
	return reply{"ok": true, "nick": nick}, nil
}

func (c *call) notice(kind, room string) error {
	return sdk.Namespace(namespace).To(roomPrefix+room).Emit("notice", reply{
		"type": kind, "room": room, "id": c.s.ID(), "nick": nickOrNil(c.m.Nick), "time": c.now,
	})
}

func onJoin(c *call) (reply, error) {
	room, ok := stringArg(c.e.Arg(0))
	if !ok {
		return errInvalid, nil
	}
	if !roomRE.MatchString(room) {
		return fail("invalid room"), nil
	}
	if c.s.InRoom(roomPrefix + room) {
		return reply{"ok": true, "room": room}, nil
	}
	if err := c.s.Join(roomPrefix + room); err != nil {
		return nil, err
	}
	if !slices.Contains(c.m.Rooms, room) {
		c.m.Rooms = append(c.m.Rooms, room)
	}
	if err := c.s.SetData(c.m); err != nil {
		return nil, err
	}
	// the ack first, then the history to the joiner, then the notice
	if err := c.e.Ack(reply{"ok": true, "room": room}); err != nil {
		return nil, err
	}
	if historyLen > 0 {
		msgs, err := history(room)
		if err != nil {
			sdk.Log.Warn("history unavailable", "room", room, "err", err.Error())
		}
		if err := c.s.Emit("history", reply{"room": room, "messages": msgs}); err != nil {
			return nil, err
		}
	}
	if err := c.notice("join", room); err != nil {
		return nil, err
	}
	return nil, nil
}

// History: message n of room R (n = 1, 2, ...) is the key
// "history/R/<n as 12 digits>", so a prefix scan returns them in order; the
// counter "seq/R" (decimal text) is advanced by compare-and-set. Storing a
// message deletes message n-historyLen, keeping the last historyLen.

func historyPrefix(room string) string { return "history/" + room + "/" }

// errNoStore: edged runs without a key-value store; chat works without history.
func noStore(err error) bool { return errors.Is(err, sdk.ErrNotAllowed) }

// nextSeq atomically increments the message counter of room.
func nextSeq(room string) (int64, error) {
	key := "seq/" + room
	for range 100 {
		old, found, err := sdk.KV.Get(key)
		if err != nil {
			return 0, err
		}
		var n int64
		if found {
			if n, err = strconv.ParseInt(string(old), 10, 64); err != nil {
				return 0, fmt.Errorf("counter %s: %w", key, err)
			}
		} else {
			old = nil // absent: swap only if still absent
		}
		ok, err := sdk.KV.CompareAndSet(key, old, strconv.AppendInt(nil, n+1, 10), 0)
		if err != nil {
			return 0, err
		}
		if ok {
			return n + 1, nil
		}
	}
	return 0, errors.New("counter " + key + ": too much contention")
}

// remember stores message msg of room and trims the history.
func remember(room string, msg reply) error {
	seq, err := nextSeq(room)
	if err != nil {
		return err
	}
	if err := sdk.KV.SetJSON(fmt.Sprintf("%s%012d", historyPrefix(room), seq), msg, 0); err != nil {
		return err
	}
	if old := seq - int64(historyLen); old > 0 {
		return sdk.KV.Delete(fmt.Sprintf("%s%012d", historyPrefix(room), old))
	}
	return nil
}

// history returns the last historyLen messages of room, oldest first (an
// empty list without a store).
func history(room string) ([]json.RawMessage, error) {
	msgs := []json.RawMessage{}
	// the last historyLen of what is there: more keys than that remain only
	// after the configured length was lowered
	pairs, err := sdk.KV.Scan(historyPrefix(room), sdk.MaxScanLimit)
	if err != nil {
		if noStore(err) {
			return msgs, nil
		}
		return msgs, err
	}
	for _, p := range pairs[max(len(pairs)-historyLen, 0):] {
		if json.Valid(p.Value) {
			msgs = append(msgs, p.Value)
		}
	}
	return msgs, nil
}

func onLeave(c *call) (reply, error) {
	room, ok := stringArg(c.e.Arg(0))
	if !ok {
		return errInvalid, nil
	}
	if !c.s.InRoom(roomPrefix + room) {
		return fail("not in room"), nil
	}
	if err := c.s.Leave(roomPrefix + room); err != nil {
		return nil, err
	}
	c.m.Rooms = slices.DeleteFunc(c.m.Rooms, func(r string) bool { return r == room })
	if err := c.s.SetData(c.m); err != nil {
		return nil, err
	}
	if err := c.notice("leave", room); err != nil {
		return nil, err
	}
	return reply{"ok": true, "room": room}, nil
}

// admit applies the mute and the rate limit to one message; it returns the
// error ack, or nil to go on. The message counts only once count is called,
// so a message refused later (no such user) does not use up the limit.
func (c *call) admit() reply {
	if c.now < c.m.MutedUntil {
		return fail("muted")
	}
	if c.now-c.m.Rate.Start >= cfg.RateLimit.WindowMS || c.m.Rate.Start > c.now {
		c.m.Rate = rate{Start: c.now}
	}
	if c.m.Rate.Count >= cfg.RateLimit.Messages {
		return fail("rate limited")
	}
	return nil
}

// count adds an admitted message to the rate limit and stores the counter.
func (c *call) count() error {
	c.m.Rate.Count++
	return c.s.SetData(c.m)
}

func messageID() string {
	id, err := sdk.RandomHex(8)
	if err != nil {
		sdk.Log.Warn("random failed", "err", err.Error())
	}
	return id
}

func onMessage(c *call) (reply, error) {
	in, ok := objectArg(c.e)
	if !ok {
		return errInvalid, nil
	}
	room, ok := stringArg(in["room"])
	if !ok {
		return errInvalid, nil
	}
	if !c.s.InRoom(roomPrefix + room) {
		return fail("not in room"), nil
	}
	text, ok := validText(in["text"])
	if !ok {
		return fail("invalid text"), nil
	}
	if r := c.admit(); r != nil {
		return r, nil
	}
	if err := c.count(); err != nil {
		return nil, err
	}
	id := messageID()
	msg := reply{"id": id, "room": room, "from": c.s.ID(), "nick": nickOrNil(c.m.Nick), "text": text, "time": c.now}
	if historyLen > 0 {
		// before the delivery: a socket that joins after seeing the message
		// finds it in the history; a failure costs the history, not the message
		if err := remember(room, msg); err != nil && !noStore(err) {
			sdk.Log.Warn("history not stored", "room", room, "err", err.Error())
		}
	}
	if err := sdk.Namespace(namespace).To(roomPrefix+room).Emit("message", msg); err != nil {
		return nil, err
	}
	return reply{"ok": true, "id": id, "time": c.now}, nil
}

func onPrivate(c *call) (reply, error) {
	in, ok := objectArg(c.e)
	if !ok {
		return errInvalid, nil
	}
	to, ok := stringArg(in["to"])
	if !ok {
		return errInvalid, nil
	}
	text, ok := validText(in["text"])
	if !ok {
		return fail("invalid text"), nil
	}
	if r := c.admit(); r != nil {
		return r, nil
	}
	target, _, err := findUser(to)
	if err != nil {
		return nil, err
	}
	if target == nil {
		return fail("no such user"), nil
	}
	if err := c.count(); err != nil {
		return nil, err
	}
	id := messageID()
	err = target.Emit("private", reply{
		"id": id, "from": c.s.ID(), "nick": nickOrNil(c.m.Nick), "text": text, "time": c.now,
	})
	if err != nil {
		return nil, err
	}
	return reply{"ok": true, "id": id, "time": c.now}, nil
}

func onTyping(c *call) (reply, error) {
	in, ok := objectArg(c.e)
	if !ok {
		return errInvalid, nil
	}
	room, ok := stringArg(in["room"])
	var typing bool
	if !ok || json.Unmarshal(in["typing"], &typing) != nil {
		return errInvalid, nil
	}
	if !c.s.InRoom(roomPrefix + room) {
		return fail("not in room"), nil
	}
	err := c.s.To(roomPrefix+room).Volatile().Emit("typing", reply{
		"room": room, "id": c.s.ID(), "nick": nickOrNil(c.m.Nick), "typing": typing,
	})
	if err != nil {
		return nil, err
	}
	return reply{"ok": true}, nil
}

func onPresence(c *call) (reply, error) {
	room, ok := stringArg(c.e.Arg(0))
	if !ok {
		return errInvalid, nil
	}
	if !roomRE.MatchString(room) {
		return fail("invalid room"), nil
	}
	list, err := sdk.Namespace(namespace).To(roomPrefix + room).FetchSockets()
	if err != nil {
		return nil, err
	}
	members := make([]reply, 0, len(list))
	for i := range list {
		var m member
		_ = list[i].Data(&m)
		members = append(members, reply{"id": list[i].ID, "nick": nickOrNil(m.Nick)})
	}
	return reply{"ok": true, "room": room, "members": members}, nil
}

// moderatorTarget checks the caller is a moderator and finds {target}.
func (c *call) moderatorTarget() (*sdk.RemoteSocket, *member, map[string]json.RawMessage, reply, error) {
	if c.m.Role != "mod" {
		return nil, nil, nil, fail("not allowed"), nil
	}
	in, ok := objectArg(c.e)
	if !ok {
		return nil, nil, nil, errInvalid, nil
	}
	who, ok := stringArg(in["target"])
	if !ok {
		return nil, nil, nil, errInvalid, nil
	}
	target, m, err := findUser(who)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if target == nil {
		return nil, nil, nil, fail("no such user"), nil
	}
	return target, m, in, nil, nil
}

func onKick(c *call) (reply, error) {
	target, _, _, r, err := c.moderatorTarget()
	if r != nil || err != nil {
		return r, err
	}
	if err := target.Disconnect(true); err != nil {
		return nil, err
	}
	return reply{"ok": true}, nil
}

func onMute(c *call) (reply, error) {
	target, m, in, r, err := c.moderatorTarget()
	if r != nil || err != nil {
		return r, err
	}
	var seconds float64
	if json.Unmarshal(in["seconds"], &seconds) != nil || seconds <= 0 || seconds > 7*24*3600 {
		return errInvalid, nil
	}
	until := c.now + int64(seconds*1000)
	m.MutedUntil = until
	if target.ID == c.s.ID() {
		c.m.MutedUntil = until
		err = c.s.SetData(c.m)
	} else {
		err = target.SetData(m)
	}
	if err != nil {
		return nil, err
	}
	if err := target.Emit("notice", reply{"type": "muted", "until": until}); err != nil {
		return nil, err
	}
	return reply{"ok": true, "until": until}, nil
}

// onDisconnecting tells each room the socket was in that it left.
func onDisconnecting(s *sdk.Socket, reason string) {
	var m member
	_ = s.Data(&m)
	now := sdk.NowMillis()
	for _, r := range s.Rooms() {
		room, ok := strings.CutPrefix(r, roomPrefix)
		if !ok {
			continue
		}
		err := s.To(r).Emit("notice", reply{
			"type": "leave", "room": room, "id": s.ID(), "nick": nickOrNil(m.Nick), "time": now,
		})
		if err != nil {
			sdk.Log.Warn("leave notice failed", "room", room, "err", err.Error())
		}
	}
}
