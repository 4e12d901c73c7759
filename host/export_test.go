package host

// SetPollWaitHook makes s call f whenever a polling GET starts waiting; it
// must be set before s serves requests.
func SetPollWaitHook(s *Server, f func(c *Conn)) { s.pollWaitHook = f }
