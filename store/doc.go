// Package store is edged's persistence: connection state recovery (sessions,
// room membership, socket.data and recent packets) and the per-plugin
// key-value data, kept in Badger so that they survive a restart. In-memory
// implementations of the same interfaces serve ephemeral use and tests.
package store
