//go:build wasip1

// Command echo is the benchmark plugin of edged (namespace "/"): it echoes
// events back without decoding their arguments. See README.md.
package main

import "github.com/edged-io/edged/plugins/sdk"

func main() {}

func init() {
	p := &sdk.Plugin{Namespaces: []string{"/"}}
	p.On("echo", echo)
	p.On("join", join)
	p.On("broadcast", broadcast)
	sdk.Register(p)
}

// echo answers the ack with the arguments unchanged (binary included), or
// emits "echo" back with them when the client asked for no ack.
func echo(s *sdk.Socket, e *sdk.Event) (any, error) {
	raw, err := e.Raw()
	if err != nil {
		return nil, err
	}
	if e.HasAck() {
		return nil, e.AckRaw(raw)
	}
	return nil, s.EmitRaw("echo", raw)
}

// join joins the room given as first argument, then acks with no arguments.
func join(s *sdk.Socket, e *sdk.Event) (any, error) {
	var room string
	if err := e.Bind(&room); err != nil || room == "" {
		return nil, errInvalid
	}
	if err := s.Join(room); err != nil {
		return nil, err
	}
	return sdk.Args{}, nil
}

// broadcast emits "msg" with the payload (second argument, passed through)
// to everyone in the room, the sender included, then acks with no arguments.
func broadcast(s *sdk.Socket, e *sdk.Event) (any, error) {
	var room string
	if err := e.Bind(&room); err != nil || room == "" {
		return nil, errInvalid
	}
	payload, err := e.RawArg(1)
	if err != nil {
		return nil, err
	}
	if err := sdk.Namespace(s.Namespace()).To(room).EmitRaw("msg", payload); err != nil {
		return nil, err
	}
	return sdk.Args{}, nil
}

type invalidArgs struct{}

func (invalidArgs) Error() string { return "invalid arguments" }

var errInvalid error = invalidArgs{}
