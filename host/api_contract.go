package host

// CONTRACT (written before the implementation; keep these names and meanings).
//
// type Options struct {
//     Path              string        // URL prefix, default "/engine.io/"
//     PingInterval      time.Duration // default 25s
//     PingTimeout       time.Duration // default 20s
//     UpgradeTimeout    time.Duration // default 10s
//     MaxHTTPBufferSize int64         // default 1e6 bytes
//     Transports        []string      // default {"polling", "websocket"}
//     DisableUpgrades   bool          // allowUpgrades=false
//     AllowRequest      func(r *http.Request) error // non-nil error: 403 {"code":4,"message":"Forbidden"}
//     Cookie            *CookieOptions // nil: no cookie
//     CORS              *CORSOptions   // nil: no CORS headers
//     GenerateID        func(r *http.Request) (string, error) // nil: 20 random url-safe chars
//     InitialHeaders    func(h http.Header, r *http.Request)  // handshake response only
//     Headers           func(h http.Header, r *http.Request)  // every response (and the WS upgrade)
//     OnConnectionError func(ConnectionError)
//     OnConnection      func(c *Conn) // must set c.SetHandler before returning
//     Logger            *slog.Logger
// }
//
// func NewServer(opts Options) *Server
// func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request)
// func (s *Server) ClientsCount() int
// func (s *Server) Close()  // closes every session with reason "forced close"
//
// type Message struct { Data []byte; Binary bool }
//
// type MessageHandler interface {
//     OnMessage(data []byte, binary bool)      // one engine "message" packet (payload without the '4')
//     OnClose(reason string, description error) // once; reason: "transport close", "transport error",
//                                                // "ping timeout", "parse error", "forced close"
// }
//
// type Conn struct{ ... }
// func (c *Conn) ID() string
// func (c *Conn) SetHandler(h MessageHandler)
// func (c *Conn) Handshake() *Handshake    // the request that opened the session
// func (c *Conn) Transport() string        // "polling" or "websocket", current
// func (c *Conn) Upgraded() bool
// func (c *Conn) Writable() bool           // a write can go out now (volatile packets check this)
// func (c *Conn) Send(msgs ...Message) error // enqueue atomically (never interleaved with another Send); non-blocking
// func (c *Conn) Close()                   // flush what is queued, then close; OnClose("forced close")
// func (c *Conn) CloseNow(reason string)   // drop queue and close with this reason
//
// type Handshake struct {
//     Header     http.Header // canonical keys as net/http gives them
//     Query      url.Values
//     URL        string      // r.URL.RequestURI()
//     RemoteAddr string      // IP without port
//     Secure     bool        // TLS
//     XDomain    bool        // Origin header present
//     Time       time.Time
// }
//
// type ConnectionError struct {
//     Request *http.Request
//     Code    int    // 0..5
//     Message string // "Transport unknown", "Session ID unknown", "Bad handshake method",
//                    // "Bad request", "Forbidden", "Unsupported protocol version"
//     Context map[string]any
// }
