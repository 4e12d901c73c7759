package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edged.json")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := loadConfig(nil, envOf(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:3000" || c.Path != "/socket.io/" || c.PingInterval != 25*time.Second ||
		c.PingTimeout != 20*time.Second || c.ConnectTimeout != 45*time.Second || c.UpgradeTimeout != 10*time.Second ||
		c.MaxHTTPBufferSize != 1e6 || !c.ServeClient || !c.AllowUpgrades || c.Data != "./data" ||
		c.ShutdownTimeout != 10*time.Second || c.MaxQueuedMessages != 4096 || c.MaxQueuedBytes != 16<<20 ||
		!reflect.DeepEqual(c.Transports, []string{"polling", "websocket"}) || c.Cookie || c.CORS || c.Recovery ||
		c.MaxDisconnectionDuration != 2*time.Minute || !c.RecoverySkipMiddlewares || c.LogFormat != "text" {
		t.Errorf("defaults: %+v", c)
	}
	o := c.coreOptions(nil)
	if o.Engine.Cookie != nil || o.Engine.CORS != nil || o.ConnectionStateRecovery != nil || o.DisableServeClient || o.Engine.DisableUpgrades {
		t.Errorf("default core options: %+v", o)
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `{"pingInterval": 1000, "pingTimeout": "3s", "listen": "0.0.0.0:1"}`)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		interval time.Duration
		timeout  time.Duration
		listen   string
	}{
		{"default", nil, nil, 25 * time.Second, 20 * time.Second, "127.0.0.1:3000"},
		{"file", []string{"--config", file}, nil, time.Second, 3 * time.Second, "0.0.0.0:1"},
		{"file from env", nil, map[string]string{"EDGED_CONFIG": file}, time.Second, 3 * time.Second, "0.0.0.0:1"},
		{"env over file", []string{"--config", file}, map[string]string{"EDGED_PING_INTERVAL": "2s"}, 2 * time.Second, 3 * time.Second, "0.0.0.0:1"},
		{"flag over env", []string{"--config", file, "--ping-interval", "5s"}, map[string]string{"EDGED_PING_INTERVAL": "2s"}, 5 * time.Second, 3 * time.Second, "0.0.0.0:1"},
		{"flag over default", []string{"-ping-timeout=7s"}, nil, 25 * time.Second, 7 * time.Second, "127.0.0.1:3000"},
		{"last flag wins", []string{"--listen", "a:1", "--listen", "b:2"}, nil, 25 * time.Second, 20 * time.Second, "b:2"},
		{"empty env is a value", []string{"--config", file}, map[string]string{"EDGED_DATA": ""}, time.Second, 3 * time.Second, "0.0.0.0:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(tt.args, envOf(tt.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.PingInterval != tt.interval || c.PingTimeout != tt.timeout || c.Listen != tt.listen {
				t.Errorf("got interval %v timeout %v listen %q", c.PingInterval, c.PingTimeout, c.Listen)
			}
			if _, ok := tt.env["EDGED_DATA"]; ok && c.Data != "" {
				t.Errorf("EDGED_DATA=\"\" gave data %q", c.Data)
			}
		})
	}
}

func TestFileSections(t *testing.T) {
	file := writeFile(t, `{
		"serveClient": false, "transports": ["websocket"], "allowUpgrades": false,
		"maxHttpBufferSize": "512KiB", "maxQueuedMessages": 10, "maxQueuedBytes": 1e6,
		"cookie": {"name": "sid", "path": "/x", "httpOnly": false, "sameSite": "strict", "maxAge": 60000},
		"cors": {"origins": ["https://a.example", "https://b.example"], "credentials": true, "methods": "GET,POST", "headers": ["x-token"]},
		"connectionStateRecovery": {"maxDisconnectionDuration": 30000, "skipMiddlewares": false},
		"logLevel": "debug", "logFormat": "json"
	}`)
	c, err := loadConfig([]string{"--config", file}, envOf(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := c.coreOptions(nil)
	e := o.Engine
	if !o.DisableServeClient || !reflect.DeepEqual(e.Transports, []string{"websocket"}) || !e.DisableUpgrades ||
		e.MaxHTTPBufferSize != 512<<10 || e.MaxQueuedMessages != 10 || e.MaxQueuedBytes != 1e6 {
		t.Errorf("engine options: %+v", e)
	}
	if k := e.Cookie; k == nil || k.Name != "sid" || k.Path != "/x" || !k.DisableHTTPOnly || k.SameSite != http.SameSiteStrictMode || k.MaxAge != time.Minute {
		t.Errorf("cookie: %+v", e.Cookie)
	}
	if k := e.CORS; k == nil || !reflect.DeepEqual(k.Origins, []string{"https://a.example", "https://b.example"}) || !k.Credentials ||
		!reflect.DeepEqual(k.Methods, []string{"GET", "POST"}) || !reflect.DeepEqual(k.AllowedHeaders, []string{"x-token"}) {
		t.Errorf("cors: %+v", e.CORS)
	}
	if r := o.ConnectionStateRecovery; r == nil || r.MaxDisconnectionDuration != 30*time.Second || r.SkipMiddlewares {
		t.Errorf("recovery: %+v", o.ConnectionStateRecovery)
	}
	if c.LogLevel.String() != "DEBUG" || c.LogFormat != "json" {
		t.Errorf("log: %v %v", c.LogLevel, c.LogFormat)
	}
	// a section switched off explicitly, from the environment, wins over the file's object
	c, err = loadConfig([]string{"--config", file}, envOf(map[string]string{"EDGED_COOKIE": "false"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.coreOptions(nil).Engine.Cookie != nil {
		t.Error("EDGED_COOKIE=false left the cookie on")
	}
}

func TestFlags(t *testing.T) {
	c, err := loadConfig([]string{
		"--connection-state-recovery", "--max-disconnection-duration", "1m", "--recovery-skip-middlewares=false",
		"--cors", "--cors-origins", "https://x", "--cookie", "--cookie-same-site", "None",
		"--max-http-buffer-size", "1e3", "--transports", "polling", "--serve-client=false",
	}, envOf(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	o := c.coreOptions(nil)
	if r := o.ConnectionStateRecovery; r == nil || r.MaxDisconnectionDuration != time.Minute || r.SkipMiddlewares {
		t.Errorf("recovery %+v", r)
	}
	if o.Engine.CORS == nil || !reflect.DeepEqual(o.Engine.CORS.Origins, []string{"https://x"}) || o.Engine.CORS.AllowedHeaders != nil {
		t.Errorf("cors %+v", o.Engine.CORS)
	}
	if o.Engine.Cookie == nil || o.Engine.Cookie.SameSite != http.SameSiteNoneMode {
		t.Errorf("cookie %+v", o.Engine.Cookie)
	}
	if o.Engine.MaxHTTPBufferSize != 1000 || !reflect.DeepEqual(o.Engine.Transports, []string{"polling"}) || !o.DisableServeClient {
		t.Errorf("engine %+v", o.Engine)
	}
}

func TestErrors(t *testing.T) {
	bad := writeFile(t, `{"pingInterval": "abc"}`)
	unknown := writeFile(t, `{"cookie": {"nme": "x"}}`)
	unknownTop := writeFile(t, `{"pingIntervall": 5}`)
	syntax := writeFile(t, `{"pingInterval": `)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag duration", []string{"--ping-interval", "abc"}, nil, `invalid value "abc" for --ping-interval (EDGED_PING_INTERVAL): time: invalid duration "abc"`},
		{"env duration", nil, map[string]string{"EDGED_PING_TIMEOUT": "10"}, `invalid value "10" for EDGED_PING_TIMEOUT (--ping-timeout): time: missing unit in duration "10"`},
		{"file duration", []string{"--config", bad}, nil, `invalid value "abc" for "pingInterval" in ` + bad + ` (--ping-interval)`},
		{"bool", []string{"--serve-client=maybe"}, nil, `invalid value "maybe" for --serve-client (EDGED_SERVE_CLIENT): want true or false`},
		{"env bool", nil, map[string]string{"EDGED_CORS": "yes please"}, `invalid value "yes please" for EDGED_CORS (--cors)`},
		{"size", []string{"--max-http-buffer-size", "lots"}, nil, `invalid value "lots" for --max-http-buffer-size`},
		{"negative size", []string{"--max-queued-bytes", "-1"}, nil, `invalid value "-1" for --max-queued-bytes`},
		{"negative duration", []string{"--shutdown-timeout", "-1s"}, nil, `invalid value "-1s" for --shutdown-timeout`},
		{"transport", []string{"--transports", "polling,carrier-pigeon"}, nil, `unknown transport "carrier-pigeon"`},
		{"no transport", []string{"--transports", ""}, nil, `invalid value "" for --transports (EDGED_TRANSPORTS): no transport`},
		{"same site", []string{"--cookie-same-site", "sometimes"}, nil, `invalid value "sometimes" for --cookie-same-site`},
		{"log level", []string{"--log-level", "loud"}, nil, `invalid value "loud" for --log-level`},
		{"log format", nil, map[string]string{"EDGED_LOG_FORMAT": "xml"}, `invalid value "xml" for EDGED_LOG_FORMAT (--log-format): want text or json`},
		{"unknown flag", []string{"--pign-interval", "1s"}, nil, `flag provided but not defined: -pign-interval`},
		{"argument", []string{"serve"}, nil, `unexpected argument "serve"`},
		{"missing file", []string{"--config", "/nonexistent/edged.json"}, nil, `config file: open /nonexistent/edged.json`},
		{"unknown key", []string{"--config", unknown}, nil, `unknown option "cookie.nme"`},
		{"unknown top key", []string{"--config", unknownTop}, nil, `unknown option "pingIntervall"`},
		{"json syntax", []string{"--config", syntax}, nil, `config file ` + syntax},
		{"tls pair", []string{"--tls-cert", "c.pem"}, nil, `--tls-cert and --tls-key go together`},
		{"pprof", []string{"--pprof"}, nil, `--pprof needs --metrics-addr`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(tt.args, envOf(tt.env), nil)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if _, ok := err.(*ConfigError); !ok {
				t.Errorf("%T is not a ConfigError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1000000": 1e6, "1e6": 1e6, "512KiB": 512 << 10, "16MiB": 16 << 20, "2 MB": 2e6, "1.5kB": 1500, "7B": 7} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "-5", "1.5", "NaN", "1e300"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q): no error", in)
		}
	}
}

// Every option has a unique flag, env name and file key, a usage line and
// a default its own parser accepts; --help lists them all with env and default.
func TestOptionTable(t *testing.T) {
	var help bytes.Buffer
	if _, err := loadConfig([]string{"--help"}, envOf(nil), &help); err != errHelp {
		t.Fatalf("--help: %v", err)
	}
	flags, keys := map[string]bool{}, map[string]bool{}
	for _, o := range options {
		if flags[o.flag] || (o.key != "" && keys[o.key]) {
			t.Errorf("duplicate %s / %s", o.flag, o.key)
		}
		flags[o.flag], keys[o.key] = true, true
		if o.usage == "" {
			t.Errorf("--%s has no usage", o.flag)
		}
		if err := o.set(&Config{}, o.def); err != nil {
			t.Errorf("--%s default %q: %v", o.flag, o.def, err)
		}
		if !strings.Contains(help.String(), "--"+o.flag) || !strings.Contains(help.String(), o.env()) {
			t.Errorf("--help lacks --%s or %s", o.flag, o.env())
		}
	}
	// the flags the test suites and make run already use
	for _, f := range []string{"listen", "plugins", "plugin-cache", "data", "data-gc-interval", "data-flush-interval", "static",
		"connection-state-recovery", "max-disconnection-duration", "recovery-skip-middlewares", "ping-interval",
		"ping-timeout", "connect-timeout", "max-http-buffer-size", "path", "tls-cert", "tls-key"} {
		if !flags[f] {
			t.Errorf("--%s is gone", f)
		}
	}
}

func TestChanges(t *testing.T) {
	a, _ := loadConfig(nil, envOf(nil), nil)
	b, _ := loadConfig([]string{"--log-level", "debug", "--ping-interval", "1s"}, envOf(nil), nil)
	reload, restart := a.changes(b)
	if !reflect.DeepEqual(reload, []string{"--log-level: info -> debug"}) || !reflect.DeepEqual(restart, []string{"--ping-interval: 25s -> 1s"}) {
		t.Errorf("changes: %q %q", reload, restart)
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, envOf(nil), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "edged dev (go") {
		t.Errorf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run([]string{"-h"}, envOf(nil), &out, &errb); code != 0 || !strings.Contains(out.String(), "EDGED_PING_INTERVAL") {
		t.Errorf("help: %d", code)
	}
	errb.Reset()
	if code := run([]string{"--ping-interval", "abc"}, envOf(nil), &out, &errb); code != 2 ||
		errb.String() != "edged: invalid value \"abc\" for --ping-interval (EDGED_PING_INTERVAL): time: invalid duration \"abc\"\n" {
		t.Errorf("bad value: %d %q", code, errb.String())
	}
}

// README.md's configuration reference is the options table; UPDATE_README=1
// rewrites it.
func TestReadmeOptions(t *testing.T) {
	const begin, end = "<!-- options:begin (generated: UPDATE_README=1 go test ./cmd/edged) -->\n", "<!-- options:end -->"
	readme := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q block", begin, end)
	}
	want := s[:i+len(begin)] + markdownOptions() + s[j:]
	if want == s {
		return
	}
	if os.Getenv("UPDATE_README") == "1" {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's options table is stale: run UPDATE_README=1 go test ./cmd/edged")
}
