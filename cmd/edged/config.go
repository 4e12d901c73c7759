package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edged-io/edged/core"
	"github.com/edged-io/edged/host"
)

// Config is edged's whole configuration. Each field is one option of the
// options table: a flag --NAME, an environment variable EDGED_NAME and a
// key of the config file, with precedence flag > env > file > default.
type Config struct {
	ConfigFile string

	Listen          string
	TLSCert         string
	TLSKey          string
	Static          string
	Plugins         string
	PluginCache     string
	Data            string
	DataGCInterval  time.Duration
	DataFlush       time.Duration
	ShutdownTimeout time.Duration
	LogLevel        slog.Level
	LogFormat       string
	MetricsAddr     string
	Pprof           bool

	Path              string
	ServeClient       bool
	ConnectTimeout    time.Duration
	PingInterval      time.Duration
	PingTimeout       time.Duration
	UpgradeTimeout    time.Duration
	MaxHTTPBufferSize int64
	Transports        []string
	AllowUpgrades     bool
	MaxQueuedMessages int
	MaxQueuedBytes    int64

	Cookie         bool
	CookieName     string
	CookiePath     string
	CookieHTTPOnly bool
	CookieSameSite http.SameSite
	CookieMaxAge   time.Duration

	CORS            bool
	CORSOrigins     []string
	CORSCredentials bool
	CORSMethods     []string
	CORSHeaders     []string

	Recovery                 bool
	MaxDisconnectionDuration time.Duration
	RecoverySkipMiddlewares  bool
}

// option is one row of the options table.
type option struct {
	flag   string // flag name without dashes; the env name is derived from it
	key    string // config-file key; a dot nests it in an object ("cookie.name")
	arg    string // placeholder in --help ("" for a switch)
	def    string // default, in the syntax of the flag
	usage  string
	reload bool // applied on SIGHUP
	set    func(c *Config, v string) error
	get    func(c *Config) string // the current value, to report changes
}

func (o *option) env() string {
	return "EDGED_" + strings.ToUpper(strings.ReplaceAll(o.flag, "-", "_"))
}

func (o *option) isBool() bool { return o.arg == "" }

// options is the table of every option of edged, in --help order.
var options = []*option{
	str("config", "", "FILE", "", "config file (JSON); its keys are the ones listed here", func(c *Config) *string { return &c.ConfigFile }),

	str("listen", "listen", "ADDR", "127.0.0.1:3000", "address to listen on (host:port; port 0 picks one)", func(c *Config) *string { return &c.Listen }),
	str("tls-cert", "tlsCert", "FILE", "", "TLS certificate file (enables HTTPS and HTTP/2, with --tls-key)", func(c *Config) *string { return &c.TLSCert }),
	str("tls-key", "tlsKey", "FILE", "", "TLS private key file", func(c *Config) *string { return &c.TLSKey }),
	str("static", "static", "DIR", "", "directory of static files served at / (e.g. web/chat); empty: none", func(c *Config) *string { return &c.Static }),
	str("plugins", "plugins", "DIR", "", "directory of WebAssembly plugins (NAME.wasm, NAME.json), hot-reloaded; empty: no plugins", func(c *Config) *string { return &c.Plugins }),
	str("plugin-cache", "pluginCache", "DIR", "", "compilation cache directory of the plugins; empty: under the user cache dir", func(c *Config) *string { return &c.PluginCache }),
	str("data", "data", "DIR", "./data", "data directory (Badger): sessions, recovery packets, plugin key-value data; empty: in memory only", func(c *Config) *string { return &c.Data }),
	dur("data-gc-interval", "dataGCInterval", "5m", "how often the data directory's value log is garbage-collected", func(c *Config) *time.Duration { return &c.DataGCInterval }),
	dur("data-flush-interval", "dataFlushInterval", "50ms", "how often session and packet writes are flushed to the data directory (the durability window)", func(c *Config) *time.Duration { return &c.DataFlush }),
	{
		flag: "shutdown-timeout", key: "shutdownTimeout", arg: "DURATION", def: "10s", reload: true,
		usage: "bound of a graceful shutdown (SIGTERM, SIGINT); past it edged exits 1",
		set:   dur("", "", "", "", func(c *Config) *time.Duration { return &c.ShutdownTimeout }).set,
		get:   func(c *Config) string { return c.ShutdownTimeout.String() },
	},
	{
		flag: "log-level", key: "logLevel", arg: "LEVEL", def: "info", reload: true,
		usage: "log level: debug, info, warn or error",
		set: func(c *Config, v string) error {
			return c.LogLevel.UnmarshalText([]byte(v))
		},
		get: func(c *Config) string { return strings.ToLower(c.LogLevel.String()) },
	},
	{
		flag: "log-format", key: "logFormat", arg: "FORMAT", def: "text",
		usage: "log format: text (logfmt) or json",
		set: func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return errors.New("want text or json")
			}
			c.LogFormat = v
			return nil
		},
		get: func(c *Config) string { return c.LogFormat },
	},
	str("metrics-addr", "metricsAddr", "ADDR", "", "separate listener for /metrics, /healthz, /readyz (and pprof); empty: /metrics on the main listener", func(c *Config) *string { return &c.MetricsAddr }),
	boolean("pprof", "pprof", "false", "serve net/http/pprof at /debug/pprof/ on --metrics-addr", func(c *Config) *bool { return &c.Pprof }),

	str("path", "path", "PATH", "/socket.io/", "URL prefix of the Socket.IO endpoint", func(c *Config) *string { return &c.Path }),
	boolean("serve-client", "serveClient", "true", "serve the client bundles at <path>socket.io.js, .min.js, .msgpack.min.js (and .map)", func(c *Config) *bool { return &c.ServeClient }),
	dur("connect-timeout", "connectTimeout", "45s", "close a client that joins no namespace in this time", func(c *Config) *time.Duration { return &c.ConnectTimeout }),
	dur("ping-interval", "pingInterval", "25s", "server ping period", func(c *Config) *time.Duration { return &c.PingInterval }),
	dur("ping-timeout", "pingTimeout", "20s", "wait for a pong this long before closing with \"ping timeout\"", func(c *Config) *time.Duration { return &c.PingTimeout }),
	dur("upgrade-timeout", "upgradeTimeout", "10s", "cancel an unfinished transport upgrade after this", func(c *Config) *time.Duration { return &c.UpgradeTimeout }),
	size("max-http-buffer-size", "maxHttpBufferSize", "1e6", "largest message in bytes; a bigger one closes the connection", func(c *Config) *int64 { return &c.MaxHTTPBufferSize }),
	{
		flag: "transports", key: "transports", arg: "LIST", def: "polling,websocket",
		usage: "allowed transports, comma-separated: polling, websocket",
		set: func(c *Config, v string) error {
			l := splitList(v)
			for _, t := range l {
				if t != host.TransportPolling && t != host.TransportWebSocket {
					return fmt.Errorf("unknown transport %q (want polling, websocket)", t)
				}
			}
			if len(l) == 0 {
				return errors.New("no transport")
			}
			c.Transports = l
			return nil
		},
		get: func(c *Config) string { return strings.Join(c.Transports, ",") },
	},
	boolean("allow-upgrades", "allowUpgrades", "true", "allow the polling to websocket upgrade", func(c *Config) *bool { return &c.AllowUpgrades }),
	integer("max-queued-messages", "maxQueuedMessages", "4096", "a session whose write queue exceeds this many packets is closed (slow consumer)", func(c *Config) *int { return &c.MaxQueuedMessages }),
	size("max-queued-bytes", "maxQueuedBytes", "16MiB", "a session whose write queue exceeds this many bytes is closed (slow consumer)", func(c *Config) *int64 { return &c.MaxQueuedBytes }),

	boolean("cookie", "cookie", "false", "set a session cookie on handshakes (a \"cookie\" object in the file turns it on too)", func(c *Config) *bool { return &c.Cookie }),
	str("cookie-name", "cookie.name", "NAME", "io", "name of the session cookie", func(c *Config) *string { return &c.CookieName }),
	str("cookie-path", "cookie.path", "PATH", "/", "path of the session cookie", func(c *Config) *string { return &c.CookiePath }),
	boolean("cookie-http-only", "cookie.httpOnly", "true", "HttpOnly attribute of the session cookie", func(c *Config) *bool { return &c.CookieHTTPOnly }),
	{
		flag: "cookie-same-site", key: "cookie.sameSite", arg: "MODE", def: "lax",
		usage: "SameSite attribute of the session cookie: lax, strict or none",
		set: func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "lax":
				c.CookieSameSite = http.SameSiteLaxMode
			case "strict":
				c.CookieSameSite = http.SameSiteStrictMode
			case "none":
				c.CookieSameSite = http.SameSiteNoneMode
			default:
				return errors.New("want lax, strict or none")
			}
			return nil
		},
		get: func(c *Config) string { return fmt.Sprint(c.CookieSameSite) },
	},
	dur("cookie-max-age", "cookie.maxAge", "0s", "Max-Age of the session cookie; 0: a session cookie", func(c *Config) *time.Duration { return &c.CookieMaxAge }),

	boolean("cors", "cors", "false", "answer CORS requests (a \"cors\" object in the file turns it on too)", func(c *Config) *bool { return &c.CORS }),
	list("cors-origins", "cors.origins", "*", "allowed origins, comma-separated; *: any", func(c *Config) *[]string { return &c.CORSOrigins }),
	boolean("cors-credentials", "cors.credentials", "false", "send Access-Control-Allow-Credentials: true", func(c *Config) *bool { return &c.CORSCredentials }),
	list("cors-methods", "cors.methods", "GET,HEAD,PUT,PATCH,POST,DELETE", "methods answered to preflight requests", func(c *Config) *[]string { return &c.CORSMethods }),
	list("cors-headers", "cors.headers", "", "headers allowed to preflight requests; empty: the requested ones", func(c *Config) *[]string { return &c.CORSHeaders }),

	boolean("connection-state-recovery", "connectionStateRecovery", "false", "keep sessions for connection state recovery (a \"connectionStateRecovery\" object in the file turns it on too)", func(c *Config) *bool { return &c.Recovery }),
	dur("max-disconnection-duration", "connectionStateRecovery.maxDisconnectionDuration", "2m", "how long a disconnected session can be recovered", func(c *Config) *time.Duration { return &c.MaxDisconnectionDuration }),
	boolean("recovery-skip-middlewares", "connectionStateRecovery.skipMiddlewares", "true", "a recovered socket skips the namespace middleware", func(c *Config) *bool { return &c.RecoverySkipMiddlewares }),
}

func str(name, key, arg, def, usage string, p func(*Config) *string) *option {
	return &option{flag: name, key: key, arg: arg, def: def, usage: usage,
		set: func(c *Config, v string) error { *p(c) = v; return nil },
		get: func(c *Config) string { return *p(c) }}
}

func dur(name, key, def, usage string, p func(*Config) *time.Duration) *option {
	return &option{flag: name, key: key, arg: "DURATION", def: def, usage: usage,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return err
			}
			if d < 0 {
				return errors.New("negative duration")
			}
			*p(c) = d
			return nil
		},
		get: func(c *Config) string { return p(c).String() }}
}

func boolean(name, key, def, usage string, p func(*Config) *bool) *option {
	return &option{flag: name, key: key, def: def, usage: usage,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return errors.New("want true or false")
			}
			*p(c) = b
			return nil
		},
		get: func(c *Config) string { return strconv.FormatBool(*p(c)) }}
}

func integer(name, key, def, usage string, p func(*Config) *int) *option {
	return &option{flag: name, key: key, arg: "N", def: def, usage: usage,
		set: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			if n > math.MaxInt32 {
				return errors.New("too big")
			}
			*p(c) = int(n)
			return nil
		},
		get: func(c *Config) string { return strconv.Itoa(*p(c)) }}
}

func size(name, key, def, usage string, p func(*Config) *int64) *option {
	return &option{flag: name, key: key, arg: "BYTES", def: def, usage: usage,
		set: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			*p(c) = n
			return nil
		},
		get: func(c *Config) string { return strconv.FormatInt(*p(c), 10) }}
}

func list(name, key, def, usage string, p func(*Config) *[]string) *option {
	return &option{flag: name, key: key, arg: "LIST", def: def, usage: usage,
		set: func(c *Config, v string) error { *p(c) = splitList(v); return nil },
		get: func(c *Config) string { return strings.Join(*p(c), ",") }}
}

func splitList(v string) []string {
	l := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l = append(l, s)
		}
	}
	return l
}

// parseSize parses a non-negative byte count: an integer, a float literal
// (1e6) or a number with a unit (kB, MB, GB = 1000^n; KiB, MiB, GiB = 1024^n).
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := 1.0
	units := []struct {
		suffix string
		m      float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.m
			break
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && mult == 1 {
		if n < 0 {
			return 0, errors.New("negative size")
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("want a byte count such as 1000000, 1e6, 512KiB or 16MiB")
	}
	f *= mult
	if f < 0 || f > math.MaxInt64/2 || f != math.Trunc(f) {
		return 0, errors.New("want a whole, non-negative byte count")
	}
	return int64(f), nil
}

// ConfigError is a bad option value: edged reports it and exits 2.
type ConfigError struct{ msg string }

func (e *ConfigError) Error() string { return e.msg }

func badValue(o *option, source, v string, err error) error {
	var where string
	switch source {
	case "flag":
		where = fmt.Sprintf("--%s (%s)", o.flag, o.env())
	case "env":
		where = fmt.Sprintf("%s (--%s)", o.env(), o.flag)
	default: // the config file's name
		where = fmt.Sprintf("%q in %s (--%s)", o.key, source, o.flag)
	}
	return &ConfigError{fmt.Sprintf("invalid value %q for %s: %v", v, where, err)}
}

// errHelp is returned by loadConfig for --help; the usage has been printed.
var errHelp = flag.ErrHelp

// loadConfig builds the configuration from the command line, the
// environment (lookupEnv) and the config file named by --config or
// EDGED_CONFIG, with precedence flag > env > file > default.
func loadConfig(args []string, lookupEnv func(string) (string, bool), usageOut io.Writer) (*Config, error) {
	setFlags, err := parseFlags(args, usageOut)
	if err != nil {
		return nil, err
	}
	return resolveConfig(setFlags, lookupEnv)
}

// flagValue is one flag given on the command line: its raw text, parsed later.
type flagValue struct {
	opt *option
	v   string
}

type rawFlag struct {
	o    *option
	set  *[]flagValue
	last string
}

func (r *rawFlag) String() string { return r.last }
func (r *rawFlag) Set(v string) error {
	r.last = v
	*r.set = append(*r.set, flagValue{r.o, v})
	return nil
}
func (r *rawFlag) IsBoolFlag() bool { return r.o.isBool() }

// parseFlags parses the command line into the raw values of the flags it
// sets, in order.
func parseFlags(args []string, usageOut io.Writer) ([]flagValue, error) {
	var set []flagValue
	fs := flag.NewFlagSet("edged", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, o := range options {
		fs.Var(&rawFlag{o: o, set: &set}, o.flag, o.usage)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(usageOut)
			return nil, errHelp
		}
		return nil, &ConfigError{err.Error() + " (edged --help lists the options)"}
	}
	if fs.NArg() > 0 {
		return nil, &ConfigError{fmt.Sprintf("unexpected argument %q (edged --help lists the options)", fs.Arg(0))}
	}
	return set, nil
}

// resolveConfig applies the defaults, the config file, the environment and
// then the flags.
func resolveConfig(flags []flagValue, lookupEnv func(string) (string, bool)) (*Config, error) {
	c := &Config{}
	for _, o := range options {
		if err := o.set(c, o.def); err != nil {
			panic(fmt.Sprintf("default of --%s: %v", o.flag, err))
		}
	}
	// the config file: --config wins over EDGED_CONFIG
	c.ConfigFile, _ = lookupEnv("EDGED_CONFIG")
	for _, f := range flags {
		if f.opt.flag == "config" {
			c.ConfigFile = f.v
		}
	}
	if c.ConfigFile != "" {
		values, err := readConfigFile(c.ConfigFile)
		if err != nil {
			return nil, err
		}
		for _, o := range options {
			if v, ok := values[o.key]; ok && o.key != "" {
				if err := o.set(c, v); err != nil {
					return nil, badValue(o, c.ConfigFile, v, err)
				}
			}
		}
	}
	for _, o := range options {
		if o.flag == "config" {
			continue
		}
		if v, ok := lookupEnv(o.env()); ok {
			if err := o.set(c, v); err != nil {
				return nil, badValue(o, "env", v, err)
			}
		}
	}
	for _, f := range flags {
		if err := f.opt.set(c, f.v); err != nil {
			return nil, badValue(f.opt, "flag", f.v, err)
		}
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check reports combinations that cannot work.
func (c *Config) check() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return &ConfigError{"--tls-cert and --tls-key go together"}
	}
	if c.Pprof && c.MetricsAddr == "" {
		return &ConfigError{"--pprof needs --metrics-addr (pprof is never served on the main listener)"}
	}
	if c.Listen == "" {
		return &ConfigError{"--listen must not be empty"}
	}
	return nil
}

// readConfigFile reads a JSON config file into option keys and their
// values as text: nested objects give dotted keys, arrays comma-separated
// lists, and a number for a duration option means milliseconds (as in the
// Node.js server). An unknown key is an error.
func readConfigFile(name string) (map[string]string, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, &ConfigError{fmt.Sprintf("config file: %v", err)}
	}
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, &ConfigError{fmt.Sprintf("config file %s: %v", name, err)}
	}
	byKey := map[string]*option{}
	for _, o := range options {
		if o.key != "" {
			byKey[o.key] = o
		}
	}
	out := map[string]string{}
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := prefix + k
			v := m[k]
			if obj, ok := v.(map[string]any); ok {
				// "cookie": {...} turns the cookie on, like cookie: true
				if o, ok := byKey[key]; ok && o.isBool() {
					out[key] = "true"
				} else if !hasPrefixKey(byKey, key+".") {
					return &ConfigError{fmt.Sprintf("config file %s: unknown option %q", name, key)}
				}
				if err := walk(key+".", obj); err != nil {
					return err
				}
				continue
			}
			o, ok := byKey[key]
			if !ok {
				return &ConfigError{fmt.Sprintf("config file %s: unknown option %q", name, key)}
			}
			s, err := fileValue(o, v)
			if err != nil {
				return badValue(o, name, fmt.Sprint(v), err)
			}
			out[key] = s
		}
		return nil
	}
	if err := walk("", doc); err != nil {
		return nil, err
	}
	return out, nil
}

func hasPrefixKey(byKey map[string]*option, prefix string) bool {
	for k := range byKey {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

func fileValue(o *option, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case json.Number:
		if o.arg == "DURATION" {
			ms, err := x.Float64()
			if err != nil {
				return "", err
			}
			return (time.Duration(ms * float64(time.Millisecond))).String(), nil
		}
		return x.String(), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", errors.New("want a list of strings")
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", errors.New("null is not a value")
	}
	return "", fmt.Errorf("unexpected %T", v)
}

// printUsage writes --help: every option with its environment variable,
// config-file key and default.
func printUsage(w io.Writer) {
	fmt.Fprint(w, `edged — a Socket.IO v4 server whose application logic runs as WebAssembly plugins.

Usage:
  edged [options]     serve
  edged version       print the version

Every option is a flag, an environment variable and a key of the JSON config
file (--config): flag > environment > file > default. Durations are Go
durations (25s, 1m30s; a number in the file means milliseconds), sizes are
bytes (1e6, 512KiB, 16MiB), lists are comma-separated (an array in the file).
Options marked [reload] are re-applied on SIGHUP; the others need a restart.

Options:
`)
	for _, o := range options {
		head := "  --" + o.flag
		if !o.isBool() {
			head += " " + o.arg
		}
		fmt.Fprintf(w, "%s\n", head)
		usage := o.usage
		if o.reload {
			usage += " [reload]"
		}
		fmt.Fprintf(w, "        %s\n", usage)
		def := o.def
		if def == "" {
			def = `""`
		}
		key := o.key
		if key == "" {
			key = "-"
		}
		fmt.Fprintf(w, "        env %s, file key %s, default %s\n", o.env(), key, def)
	}
}

// coreOptions maps the configuration onto the server's options.
func (c *Config) coreOptions(log *slog.Logger) core.Options {
	opts := core.Options{
		Engine: host.Options{
			Path:              c.Path,
			PingInterval:      c.PingInterval,
			PingTimeout:       c.PingTimeout,
			UpgradeTimeout:    c.UpgradeTimeout,
			MaxHTTPBufferSize: c.MaxHTTPBufferSize,
			Transports:        c.Transports,
			DisableUpgrades:   !c.AllowUpgrades,
			MaxQueuedMessages: c.MaxQueuedMessages,
			MaxQueuedBytes:    c.MaxQueuedBytes,
			Logger:            log,
		},
		ConnectTimeout:     c.ConnectTimeout,
		DisableServeClient: !c.ServeClient,
		// plugin calls run deep: see core.Options.ReserveHandlerStack
		ReserveHandlerStack: true,
		Logger:              log,
	}
	if c.Cookie {
		opts.Engine.Cookie = &host.CookieOptions{
			Name:            c.CookieName,
			Path:            c.CookiePath,
			DisableHTTPOnly: !c.CookieHTTPOnly,
			SameSite:        c.CookieSameSite,
			MaxAge:          c.CookieMaxAge,
			Secure:          c.TLSCert != "",
		}
	}
	if c.CORS {
		opts.Engine.CORS = &host.CORSOptions{
			Origins:     c.CORSOrigins,
			Credentials: c.CORSCredentials,
			Methods:     c.CORSMethods,
		}
		if len(c.CORSHeaders) > 0 {
			opts.Engine.CORS.AllowedHeaders = c.CORSHeaders
		}
	}
	if c.Recovery {
		rec := core.DefaultRecoveryOptions()
		rec.MaxDisconnectionDuration = c.MaxDisconnectionDuration
		rec.SkipMiddlewares = c.RecoverySkipMiddlewares
		opts.ConnectionStateRecovery = rec
	}
	return opts
}

// changes lists the options whose value differs between c and next, as
// "name: old -> new".
func (c *Config) changes(next *Config) (reloadable, restart []string) {
	for _, o := range options {
		if o.flag == "config" {
			continue
		}
		a, b := o.get(c), o.get(next)
		if a == b {
			continue
		}
		d := fmt.Sprintf("--%s: %s -> %s", o.flag, a, b)
		if o.reload {
			reloadable = append(reloadable, d)
		} else {
			restart = append(restart, d)
		}
	}
	return reloadable, restart
}

// markdownOptions renders the options table for README.md (kept in sync
// by TestReadmeOptions).
func markdownOptions() string {
	var b strings.Builder
	b.WriteString("| flag | env | file key | default | meaning |\n|---|---|---|---|---|\n")
	for _, o := range options {
		flag := "`--" + o.flag
		if !o.isBool() {
			flag += " " + o.arg
		}
		flag += "`"
		key := "—"
		if o.key != "" {
			key = "`" + o.key + "`"
		}
		def := "`" + o.def + "`"
		if o.def == "" {
			def = "none"
		}
		usage := strings.ReplaceAll(o.usage, "|", "\\|")
		if o.reload {
			usage += " **(reloadable)**"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", flag, o.env(), key, def, usage)
	}
	return b.String()
}
