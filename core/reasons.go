package core

// Disconnect reasons, exactly as the Node.js server reports them.
const (
	// ReasonServerNamespaceDisconnect is given when the server called Socket.Disconnect.
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	// ReasonClientNamespaceDisconnect is given when the client sent a DISCONNECT packet.
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	// ReasonServerShuttingDown is given to every socket when the server closes.
	ReasonServerShuttingDown = "server shutting down"
	// ReasonPingTimeout is given when the client did not answer a ping in time.
	ReasonPingTimeout = "ping timeout"
	// ReasonTransportClose is given when the client closed the connection.
	ReasonTransportClose = "transport close"
	// ReasonTransportError is given when the connection failed.
	ReasonTransportError = "transport error"
	// ReasonParseError is given when the client sent a packet that could not be decoded.
	ReasonParseError = "parse error"
	// ReasonForcedClose is given when the server closed the underlying connection.
	ReasonForcedClose = "forced close"
	// ReasonForcedServerClose is given when Socket.Disconnect(true) closed the whole connection.
	ReasonForcedServerClose = "forced server close"
)

// isRecoverable reports whether a session is kept for connection state
// recovery after a disconnection for this reason.
func isRecoverable(reason string) bool {
	switch reason {
	case ReasonTransportError, ReasonTransportClose, ReasonForcedClose,
		ReasonPingTimeout, ReasonServerShuttingDown, ReasonForcedServerClose:
		return true
	}
	return false
}

// isReservedServerEvent reports whether an event name may not be used for a
// namespace broadcast or ServerSideEmit.
func isReservedServerEvent(name string) bool {
	switch name {
	case "connect", "connection", "new_namespace":
		return true
	}
	return false
}
