//go:build wasip1

// Command conformance is the plugin version of the server the official
// socket.io-protocol v5 test suite expects: namespaces "/" and "/custom"
// send the handshake auth back on connection, echo "message" as
// "message-back" and answer "message-with-ack" with the same arguments.
package main

import "github.com/edged-io/edged/plugins/sdk"

func main() {}

func init() {
	p := &sdk.Plugin{Namespaces: []string{"/", "/custom"}}
	p.OnConnection(func(s *sdk.Socket) {
		hs, err := s.Handshake()
		if err != nil {
			sdk.Log.Error("handshake", "err", err.Error())
			return
		}
		auth := any(hs.Auth)
		if hs.Auth == nil {
			auth = map[string]any{}
		}
		if err := s.Emit("auth", auth); err != nil {
			sdk.Log.Error("emit auth", "err", err.Error())
		}
	})
	p.On("message", func(s *sdk.Socket, e *sdk.Event) (any, error) {
		raw, err := e.Raw()
		if err != nil {
			return nil, err
		}
		return nil, s.EmitRaw("message-back", raw)
	})
	p.On("message-with-ack", func(s *sdk.Socket, e *sdk.Event) (any, error) {
		return e.Raw()
	})
	sdk.Register(p)
}
