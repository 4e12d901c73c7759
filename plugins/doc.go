// Package plugins runs edged's application logic as sandboxed WebAssembly
// plugins on wazero, implementing the host side of the ABI in docs/ABI.md
// (constants in package abi).
//
// A Manager loads every NAME.wasm of a directory (settings in NAME.json),
// validates it, runs its init, and serves the namespaces it declared on a
// core.Server. Load fails on any bad plugin; Reload and Watch replace
// plugins one by one, keeping the old version when the new one fails.
//
// Key invariants:
//   - Core handlers are registered once per namespace or pattern; they look
//     up the serving plugin version in an immutable route table swapped
//     atomically on reload, so connected sockets see new behaviour (and newly
//     declared events) without re-registering.
//   - A plugin version (generation) is reference counted: the route table,
//     every running call and every pending emit-with-ack hold a reference;
//     the last release closes its runtime. One event's any/packet/event calls
//     and its ack run on one version.
//   - An instance serves one call at a time; a generation has at most
//     pool_size instances, created lazily. Plugins are stateless, so any
//     instance may serve any socket.
//   - The host never panics on guest input: bad pointers and lengths are
//     error returns; a trap, deadline or memory exhaustion fails that call,
//     discards the instance and is logged as "plugin call failed".
//   - Connect middleware fails closed.
//
// All exported methods of Manager are safe for concurrent use.
package plugins
