package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edged-io/edged/core"

	"github.com/edged-io/edged/internal/wiretest"
)

// backend builds the core options of a server with recovery on rec, kept by
// core's memory store or by a DB in a temporary directory.
type backend struct {
	name string
	opts func(t *testing.T, rec *core.RecoveryOptions) core.Options
}

var backends = []backend{
	{"memory", func(_ *testing.T, rec *core.RecoveryOptions) core.Options {
		return core.Options{ConnectionStateRecovery: rec}
	}},
	{"badger", func(t *testing.T, rec *core.RecoveryOptions) core.Options {
		db := openTest(t, t.TempDir(), Options{})
		return core.Options{ConnectionStateRecovery: rec, RecoveryStore: db.RecoveryStore(rec)}
	}},
}

func openTest(t testing.TB, dir string, opts Options) *DB {
	t.Helper()
	opts.Logger = quietLog
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// fixture is a server whose sockets join "news" and get data {"nick":"ann"}
// on a fresh connection, and a first client that got one packet.
type fixture struct {
	srv       *core.Server
	url       string
	connected chan *core.Socket
	gone      chan string
	sid, pid  string
	offset    string // of the packet the first client got
	client    *wiretest.Client
}

func newFixture(t *testing.T, opts core.Options) *fixture {
	t.Helper()
	f := &fixture{connected: make(chan *core.Socket, 4), gone: make(chan string, 4)}
	f.srv, f.url, _ = startServer(t, opts)
	f.srv.OnConnection(func(s *core.Socket) {
		if !s.Recovered() {
			s.Join("news")
			s.SetData(map[string]any{"nick": "ann"})
		}
		s.OnDisconnect(func(r string) { f.gone <- r })
		f.connected <- s
	})
	f.client = wiretest.Dial(t, f.url)
	f.sid, f.pid = connect(t, f.client, "", "")
	wiretest.Recv(t, f.connected)
	if err := f.srv.To("news").Emit("n", 0); err != nil {
		t.Fatal(err)
	}
	f.offset = lastArg(f.client.Read())
	return f
}

// expectFrames reads frames until the "end" marker sent to sid and compares.
func expectFrames(t *testing.T, f *fixture, c *wiretest.Client, sid string, want []string) {
	t.Helper()
	if err := f.srv.To(sid).Emit("end"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		fr := c.Read()
		if strings.HasPrefix(fr, `42["end"`) {
			break
		}
		if i := strings.LastIndex(fr, ","); i >= 0 {
			fr = fr[:i] + "]" // drop the offset: it differs between stores
		}
		got = append(got, fr)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("frames after recovery:\n got %q\nwant %q", got, want)
	}
}

func TestRestoreSemanticsMatchMemory(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"missed packets of its rooms in order, exactly once", func(t *testing.T, f *fixture) {
			f.client.Conn.CloseNow()
			if r := wiretest.Recv(t, f.gone); r != core.ReasonTransportClose && r != core.ReasonTransportError {
				t.Fatalf("reason %q", r)
			}
			must(t, f.srv.To("news").Emit("n", 1))
			must(t, f.srv.To("other").Emit("x", "other room"))
			must(t, f.srv.Of("/").Emit("n", 2))
			must(t, f.srv.To("news").Except("news").Emit("x", "excepted"))
			must(t, f.srv.To("news").Emit("n", 3, []byte{1, 2}))
			c := wiretest.Dial(t, f.url)
			sid, pid := connect(t, c, f.pid, f.offset)
			if sid != f.sid || pid != f.pid {
				t.Fatalf("recovered sid/pid %s/%s, want %s/%s", sid, pid, f.sid, f.pid)
			}
			s := wiretest.Recv(t, f.connected)
			if !s.Recovered() || !slices.Contains(s.Rooms(), "news") {
				t.Fatalf("recovered=%v rooms=%v", s.Recovered(), s.Rooms())
			}
			if d, _ := s.Data().(map[string]any); d["nick"] != "ann" {
				t.Fatalf("data %v", s.Data())
			}
			expectFrames(t, f, c, sid, []string{`42["n",1]`, `42["n",2]`, `451-["n",3,{"_placeholder":true,"num":0}]`, "bin:\x01\x02"}) // wiretest shows binary frames as "bin:"+bytes
		}},
		{"a session is restored once", func(t *testing.T, f *fixture) {
			f.client.Conn.CloseNow()
			wiretest.Recv(t, f.gone)
			c := wiretest.Dial(t, f.url)
			if sid, _ := connect(t, c, f.pid, f.offset); sid != f.sid {
				t.Fatalf("first restore: sid %s", sid)
			}
			wiretest.Recv(t, f.connected)
			c.Send("41")
			wiretest.Recv(t, f.gone)
			c2 := wiretest.Dial(t, f.url)
			if sid, _ := connect(t, c2, f.pid, f.offset); sid == f.sid {
				t.Fatal("restored twice")
			}
		}},
		{"unknown offset: fresh session", func(t *testing.T, f *fixture) {
			f.client.Conn.CloseNow()
			wiretest.Recv(t, f.gone)
			c := wiretest.Dial(t, f.url)
			if sid, _ := connect(t, c, f.pid, "00000000000000ff"); sid == f.sid {
				t.Fatal("restored with an unknown offset")
			}
			if s := wiretest.Recv(t, f.connected); s.Recovered() {
				t.Fatal("recovered")
			}
		}},
		{"client disconnect is not recoverable", func(t *testing.T, f *fixture) {
			f.client.Send("41")
			if r := wiretest.Recv(t, f.gone); r != core.ReasonClientNamespaceDisconnect {
				t.Fatalf("reason %q", r)
			}
			c := wiretest.Dial(t, f.url)
			if sid, _ := connect(t, c, f.pid, f.offset); sid == f.sid {
				t.Fatal("restored after a client disconnect")
			}
		}},
		{"expired session: fresh, no stale rooms", func(t *testing.T, f *fixture) {
			f.client.Conn.CloseNow()
			wiretest.Recv(t, f.gone)
			// a real time requirement: outlive MaxDisconnectionDuration (300ms)
			time.Sleep(400 * time.Millisecond)
			c := wiretest.Dial(t, f.url)
			sid, _ := connect(t, c, f.pid, f.offset)
			s := wiretest.Recv(t, f.connected)
			if sid == f.sid || s.Recovered() {
				t.Fatal("restored an expired session")
			}
		}},
	}
	for _, b := range backends {
		for _, tc := range cases {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				rec := &core.RecoveryOptions{MaxDisconnectionDuration: 300 * time.Millisecond, SkipMiddlewares: true, MaxPackets: 100}
				if !strings.HasPrefix(tc.name, "expired") {
					rec.MaxDisconnectionDuration = time.Minute
				}
				tc.run(t, newFixture(t, b.opts(t, rec)))
			})
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashRecovery kills nothing but closes the store under a live socket
// (as SIGKILL would leave it: the session marked live) and recovers it from a
// new store and server on the same directory.
func TestCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	rec := &core.RecoveryOptions{MaxDisconnectionDuration: time.Minute, SkipMiddlewares: true, MaxPackets: 100}
	db1, err := Open(dir, Options{Logger: quietLog, FlushInterval: time.Hour})
	must(t, err)
	f := newFixture(t, core.Options{ConnectionStateRecovery: rec, RecoveryStore: db1.RecoveryStore(rec)})
	must(t, f.srv.To("news").Emit("n", 1))
	if got := f.client.Read(); !strings.HasPrefix(got, `42["n",1,`) {
		t.Fatalf("got %q", got)
	}
	must(t, db1.Close()) // flushes; the socket is still connected: its session stays live
	f.client.Conn.CloseNow()

	db2 := openTest(t, dir, Options{})
	f2 := &fixture{connected: make(chan *core.Socket, 4), gone: make(chan string, 4)}
	f2.srv, f2.url, _ = startServer(t, core.Options{ConnectionStateRecovery: rec, RecoveryStore: db2.RecoveryStore(rec)})
	f2.srv.OnConnection(func(s *core.Socket) { f2.connected <- s })
	c := wiretest.Dial(t, f2.url)
	sid, _ := connect(t, c, f.pid, f.offset)
	if sid != f.sid {
		t.Fatalf("after restart sid %s, want %s", sid, f.sid)
	}
	s2 := wiretest.Recv(t, f2.connected)
	if !s2.Recovered() || !slices.Contains(s2.Rooms(), "news") {
		t.Fatalf("recovered=%v rooms=%v", s2.Recovered(), s2.Rooms())
	}
	if d, _ := s2.Data().(map[string]any); d["nick"] != "ann" {
		t.Fatalf("data %v", s2.Data())
	}
	expectFrames(t, f2, c, sid, []string{`42["n",1]`})
}

// rs returns the DB's recovery store as its concrete type.
func rs(db *DB, rec *core.RecoveryOptions) *recoveryStore {
	return db.RecoveryStore(rec).(*recoveryStore)
}

func TestBatchedWritesAndDegradedMode(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{FlushInterval: time.Hour})
	r := rs(db, &core.RecoveryOptions{MaxDisconnectionDuration: time.Minute, MaxPackets: 100})
	data, err := r.AddPacket("/", core.Payload{Data: []byte(`["a"]`)}, core.BroadcastOptions{})
	must(t, err)
	offset := lastArg(string(data))
	r.PersistSession("/", &core.Session{SID: "s1", PID: "p1", Rooms: []string{"s1"}})
	if _, found, _ := readRaw(db, sessionKey("/", "p1")); found {
		t.Fatal("written before a flush")
	}
	full := fmt.Errorf("no space left on device")
	db.write = func(map[string]pendingEntry) error { return full }
	_, err = r.AddPacket("/", core.Payload{Data: []byte(`["b"]`)}, core.BroadcastOptions{})
	must(t, err)
	if err := db.Flush(); err == nil || !db.Degraded() {
		t.Fatalf("flush on a full disk: err=%v degraded=%v", err, db.Degraded())
	}
	s, err := r.RestoreSession("/", "p1", offset)
	must(t, err)
	if s == nil || s.SID != "s1" || len(s.MissedPackets) != 1 || !strings.HasPrefix(string(s.MissedPackets[0].Data), `["b",`) {
		t.Fatalf("restore from pending writes: %+v", s)
	}
	db.write = db.writeBatch
	must(t, db.Flush())
	if db.Degraded() {
		t.Fatal("still degraded")
	}
	if _, found, _ := readRaw(db, packetKey("/", offset)); !found {
		t.Fatal("packet not written after the disk came back")
	}
	if _, found, _ := readRaw(db, sessionKey("/", "p1")); found {
		t.Fatal("restored session still kept")
	}
}

func TestFlushInterval(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{FlushInterval: 20 * time.Millisecond})
	r := rs(db, nil)
	r.TrackSession("/", &core.Session{SID: "s1", PID: "p1", Rooms: []string{"s1", "a"}})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, found, _ := readRaw(db, sessionKey("/", "p1")); found {
			if !strings.Contains(string(v), `"state":"live"`) {
				t.Fatalf("session %s", v)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("not flushed within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOffsetsOrderedAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	var offsets []string
	for range 3 {
		db, err := Open(dir, Options{Logger: quietLog})
		must(t, err)
		r := rs(db, nil)
		for range 3 {
			d, err := r.AddPacket("/", core.Payload{Data: []byte(`[]`)}, core.BroadcastOptions{})
			must(t, err)
			offsets = append(offsets, lastArg(string(d)))
		}
		must(t, db.Close())
	}
	if !slices.IsSorted(offsets) || len(slices.Compact(slices.Clone(offsets))) != len(offsets) {
		t.Fatalf("offsets not unique and ordered: %v", offsets)
	}
}

func TestTrimKeepsMaxPackets(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	r := rs(db, &core.RecoveryOptions{MaxDisconnectionDuration: time.Minute, MaxPackets: 5})
	var last string
	for i := range 20 {
		d, err := r.AddPacket("/x", core.Payload{Data: fmt.Appendf(nil, `[%d]`, i)}, core.BroadcastOptions{})
		must(t, err)
		last = lastArg(string(d))
	}
	must(t, db.Flush())
	r.trim()
	n := countPrefix(t, db, packetPrefix+nspPart("/x"))
	if n != 5 {
		t.Fatalf("%d packets kept, want 5", n)
	}
	if _, found, _ := readRaw(db, packetKey("/x", last)); !found {
		t.Fatal("newest packet trimmed")
	}
}

func TestSessionTTL(t *testing.T) {
	db := openTest(t, t.TempDir(), Options{})
	r := rs(db, &core.RecoveryOptions{MaxDisconnectionDuration: time.Second, MaxPackets: 5})
	r.PersistSession("/", &core.Session{SID: "s", PID: "p"})
	d, _ := r.AddPacket("/", core.Payload{Data: []byte(`[]`)}, core.BroadcastOptions{})
	must(t, db.Flush())
	if _, found, _ := readRaw(db, sessionKey("/", "p")); !found {
		t.Fatal("session not kept")
	}
	// a real time requirement: Badger expires by the second, so a 1s TTL is
	// gone after at most 2s
	time.Sleep(2100 * time.Millisecond)
	for _, k := range []string{sessionKey("/", "p"), packetKey("/", lastArg(string(d)))} {
		if _, found, _ := readRaw(db, k); found {
			t.Fatalf("%q outlived its TTL", k)
		}
	}
}
