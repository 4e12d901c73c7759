package host

// Observer receives the engine's events for metrics. Its methods are called
// on hot paths, from many goroutines at once: they must be cheap, safe for
// concurrent use and must not block or call back into the server. A nil
// Options.Observer costs one nil check per event.
type Observer interface {
	// ConnOpened reports a new session on transport "polling" or "websocket".
	ConnOpened(transport string)
	// ConnUpgraded reports a session that moved from polling to websocket.
	ConnUpgraded()
	// ConnClosed reports the end of a session, with the transport it was on
	// and the Reason* it closed with.
	ConnClosed(transport, reason string)
	// MessageIn reports one "message" packet received, with its payload size.
	MessageIn(bytes int)
	// MessagesOut reports n "message" packets accepted for sending by Send,
	// with their total payload size.
	MessagesOut(n, bytes int)
	// SlowConsumer reports a session closed because its outgoing queue
	// overflowed Options.MaxQueuedMessages or MaxQueuedBytes.
	SlowConsumer()
}
