package core

import (
	"testing"

	"github.com/edged-io/edged/internal/wiretest"
)

// Outgoing catch-all handlers see broadcasts and direct emits while
// registered, and nothing once removed (the broadcast path checks a counter
// before taking the listener lock).
func TestAnyOutgoingOnBroadcast(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	seen := make(chan string, 8)
	srv.OnConnection(func(s *Socket) {
		id := s.OnAnyOutgoing(func(e *Event) { seen <- e.Name })
		s.On("all", func(*Event) { _ = srv.Of("/").Emit("to-all", 1) })
		s.On("me", func(*Event) { _ = s.Emit("to-me") })
		s.On("off", func(e *Event) { s.OffAnyOutgoing(id); _ = e.AckPayload(Payload{}) })
	})
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	c.Send(`42["all"]`)
	c.Expect(`42["to-all",1]`)
	c.Send(`42["me"]`)
	c.Expect(`42["to-me"]`)
	for _, want := range []string{"to-all", "to-me"} {
		if got := <-seen; got != want {
			t.Fatalf("outgoing handler saw %q, want %q", got, want)
		}
	}
	c.Send(`421["off"]`)
	c.Expect(`431[]`)
	c.Send(`42["all"]`)
	c.Expect(`42["to-all",1]`)
	select {
	case got := <-seen:
		t.Fatalf("removed outgoing handler still saw %q", got)
	default:
	}
}

// A room joined in a connect middleware, before the socket is in its
// namespace, still leads broadcasts to it; so do rooms given up and rejoined.
func TestBroadcastReachesRoomsJoinedEarly(t *testing.T) {
	srv, url := newTestServer(t, Options{})
	srv.Use(func(s *Socket) error { s.Join("early"); return nil })
	srv.OnConnection(func(s *Socket) {
		s.On("go", func(e *Event) {
			s.Leave("early")
			s.Join("early", "late")
			_ = srv.To("early", "late").Except("none").Emit("hi", 1) // once per socket
			_ = srv.To(s.ID()).Emit("own")
		})
	})
	c := wiretest.Dial(t, url)
	connect(t, c, "/")
	c.Send(`42["go"]`)
	c.Expect(`42["hi",1]`)
	c.Expect(`42["own"]`)
}
