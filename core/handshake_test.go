package core

import "testing"

// The handshake, built on first use, shows the request as the Node.js
// server does, and the same value on every call.
func TestHandshakeLazy(t *testing.T) {
	srv := newBenchServer(t)
	got := make(chan [2]*Handshake, 1)
	srv.OnConnection(func(s *Socket) { got <- [2]*Handshake{s.Handshake(), s.Handshake()} })
	dialPolling(t, srv)
	hs := <-got
	if hs[0] != hs[1] {
		t.Fatal("Handshake returned two values")
	}
	h := hs[0]
	tests := []struct{ name, got, want string }{
		{"user-agent", h.Headers["user-agent"], browserHeader().Get("User-Agent")},
		{"cookie joined", h.Headers["cookie"], "theme=dark; lang=en"},
		{"query", h.Query["transport"], "polling"},
		{"address", h.Address, "192.0.2.1"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if h.Auth == nil || len(h.Auth) != 0 || !h.XDomain || h.Time == "" || h.Issued == 0 {
		t.Errorf("handshake %+v", h)
	}
}
