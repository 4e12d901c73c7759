package core

import (
	"log/slog"
	"time"

	"github.com/edged-io/edged/host"
)

// Options configure a Server. The zero value gives the Node.js defaults.
type Options struct {
	// Engine configures the Engine.IO layer (ping, transports, CORS, ...). Its
	// Path defaults to "/socket.io/"; its OnConnection is set by the Server.
	Engine host.Options
	// ConnectTimeout closes a connection that joins no namespace in time (default 45s).
	ConnectTimeout time.Duration
	// DisableServeClient stops serving the client bundles under the path.
	DisableServeClient bool
	// Adapter creates each namespace's adapter (default: NewMemoryAdapter).
	Adapter AdapterFactory
	// ConnectionStateRecovery turns recovery on when non-nil.
	ConnectionStateRecovery *RecoveryOptions
	// RecoveryStore keeps recovery packets and sessions (default: in memory,
	// bounded by the RecoveryOptions). Used only when recovery is on.
	RecoveryStore RecoveryStore
	// MaxPendingEvents bounds the events queued for one socket's handlers
	// (default 1024); a client that floods beyond it is disconnected.
	MaxPendingEvents int
	// ReserveHandlerStack grows the goroutine that runs a socket's handlers
	// to 8 KiB of stack before it runs them. Set it when handlers go deep
	// (edged's WebAssembly plugins do): the stack then grows once while it
	// is shallow instead of being copied in the middle of a handler.
	ReserveHandlerStack bool
	// GenerateID creates socket ids and private session ids (default: 20 random url-safe chars).
	GenerateID func() string
	// Logger receives the server's structured log (default: slog.Default()).
	Logger *slog.Logger
	// Observer, when non-nil, receives namespace, socket, broadcast and ack
	// events for metrics.
	Observer Observer
}

// RecoveryOptions configure connection state recovery.
type RecoveryOptions struct {
	// MaxDisconnectionDuration is how long a session is kept (default 2 minutes).
	MaxDisconnectionDuration time.Duration
	// SkipMiddlewares skips namespace middleware for a recovered socket.
	SkipMiddlewares bool
	// MaxPackets bounds the recovery buffer of each namespace (default 10000).
	MaxPackets int
}

// DefaultRecoveryOptions returns the Node.js defaults: 2 minutes, middleware skipped.
func DefaultRecoveryOptions() *RecoveryOptions {
	return &RecoveryOptions{MaxDisconnectionDuration: 2 * time.Minute, SkipMiddlewares: true, MaxPackets: 10000}
}

func (o *Options) setDefaults() {
	if o.Engine.Path == "" {
		o.Engine.Path = "/socket.io/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.MaxPendingEvents <= 0 {
		o.MaxPendingEvents = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if r := o.ConnectionStateRecovery; r != nil {
		c := *r
		if c.MaxDisconnectionDuration <= 0 {
			c.MaxDisconnectionDuration = 2 * time.Minute
		}
		if c.MaxPackets <= 0 {
			c.MaxPackets = 10000
		}
		o.ConnectionStateRecovery = &c
	}
}
