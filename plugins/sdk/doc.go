// Package sdk is the Go SDK for edged plugins: the guest side of the plugin
// ABI v1 (docs/ABI.md). A plugin is a package main built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o NAME.wasm .
//
// whose init function describes a Plugin and registers it; main stays empty.
// The SDK exports edged_abi_v1, edged_init and edged_on and calls the host
// functions of the edged_v1 import module.
//
//	//go:build wasip1
//
//	package main
//
//	import "github.com/edged-io/edged/plugins/sdk"
//
//	func main() {}
//
//	func init() {
//		p := &sdk.Plugin{Namespaces: []string{"/chat"}}
//		p.Use(func(s *sdk.Socket) error {
//			hs, err := s.Handshake()
//			if err != nil {
//				return err
//			}
//			if hs.Auth["token"] != "secret" {
//				return &sdk.ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
//			}
//			return nil
//		})
//		p.OnConnection(func(s *sdk.Socket) {
//			_ = s.Emit("hello", "welcome", s.ID())
//		})
//		p.On("say", func(s *sdk.Socket, e *sdk.Event) (any, error) {
//			var room, text string
//			if err := e.Bind(&room, &text); err != nil {
//				return map[string]any{"error": "invalid arguments"}, nil
//			}
//			if err := sdk.Namespace(s.Namespace()).To(room).Emit("said", s.ID(), text); err != nil {
//				return nil, err
//			}
//			return map[string]any{"ok": true}, nil // the ack, if the client asked for one
//		})
//		sdk.Register(p)
//	}
//
// # Model
//
// edged runs a pool of instances of the module; every call (a connect, an
// event, a disconnect, an ack result) may land on any instance. Plugins are
// therefore stateless: keep per-socket state in socket data (Socket.SetData),
// never in package variables. The events of one socket reach the plugin one
// at a time, in order; an instance serves one call at a time, so handlers
// need no locking. Socket, Event and AckResult values are valid during their
// call only.
//
// # Key-value data
//
// KV is the plugin's durable key-value data (docs/ABI.md §4.5), scoped by
// the plugin's name, shared by all its instances and versions, surviving hot
// reloads and restarts: Get, Set (with an optional TTL), Delete, Scan by
// prefix, CompareAndSet for atomic read-modify-write, and GetJSON/SetJSON.
//
//	var n int
//	for {
//		old, _, err := sdk.KV.Get("visits")
//		if err != nil {
//			return err
//		}
//		n, _ = strconv.Atoi(string(old))
//		if ok, err := sdk.KV.CompareAndSet("visits", old, []byte(strconv.Itoa(n+1)), 0); err != nil || ok {
//			return err
//		}
//	}
//
// # Acknowledgements
//
// An EventHandler's non-nil return value acknowledges the event (Args for
// several arguments, RawArgs to pass arguments through undecoded); e.Ack
// answers explicitly. For EmitWithAck, register the answer's handler at init
// with Plugin.OnAckResult: the returned AckHandler is a token that is the same
// in every instance, so the answer reaches the handler whichever instance
// serves it. Context the handler needs must travel in socket data or in the
// acknowledgement itself.
//
// # Binary
//
// []byte arguments (at the top level or inside []any, Args and
// map[string]any) travel as binary attachments. Received binary arguments
// are placeholders in Event.Args; Bind decodes them into *[]byte, and
// Event.Binary reads attachment N.
//
// # Errors
//
// Host operations return a *CallError that matches ErrNotFound,
// ErrNotAllowed, ... with errors.Is. A handler that panics is recovered: the
// panic is logged and the call fails with "plugin error".
//
// The wasm glue is in the wasip1 build only; elsewhere the package compiles
// (for tests and tools) and every host operation fails with ErrNoHost.
package sdk
