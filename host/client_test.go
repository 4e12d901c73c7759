package host_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edged-io/edged/host"
	"github.com/edged-io/edged/host/clientdist"
)

func fakeBundles() fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, name := range clientdist.Names {
		fsys[name] = &fstest.MapFile{Data: []byte("/*!\n * Socket.IO v9.9.9\n */\n// " + name + strings.Repeat(" padding", 100))}
	}
	return fsys
}

func TestServeClient(t *testing.T) {
	h := newHarness(t, host.Options{Path: "/socket.io/", ServeClient: true, ClientFiles: fakeBundles()})
	base := h.ts.URL + "/socket.io/"
	get := func(t *testing.T, method, name string, hdr http.Header) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+name, nil)
		for k, v := range hdr {
			req.Header[k] = v
		}
		// A bare transport, so that gzip is neither requested nor undone.
		res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, b
	}
	for _, name := range clientdist.Names {
		t.Run(name, func(t *testing.T) {
			res, body := get(t, "GET", name, nil)
			wantType := "application/javascript; charset=utf-8"
			if strings.HasSuffix(name, ".map") {
				wantType = "application/json; charset=utf-8"
			}
			if res.StatusCode != 200 || res.Header.Get("Content-Type") != wantType ||
				res.Header.Get("ETag") != `"9.9.9"` || res.Header.Get("Cache-Control") != "public, max-age=0" {
				t.Fatalf("%d %v", res.StatusCode, res.Header)
			}
			if !bytes.Contains(body, []byte("// "+name)) {
				t.Fatalf("body %q", body[:40])
			}
		})
	}
	tests := []struct {
		name       string
		method     string
		header     http.Header
		wantStatus int
	}{
		{name: "etag match", method: "GET", header: http.Header{"If-None-Match": {`"9.9.9"`}}, wantStatus: 304},
		{name: "weak etag match", method: "GET", header: http.Header{"If-None-Match": {`W/"9.9.9"`}}, wantStatus: 304},
		{name: "etag mismatch", method: "GET", header: http.Header{"If-None-Match": {`"1.0.0"`}}, wantStatus: 200},
		{name: "head", method: "HEAD", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := get(t, tt.method, "socket.io.min.js", tt.header)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if (tt.wantStatus == 304 || tt.method == "HEAD") && len(body) != 0 {
				t.Fatalf("body of %d bytes", len(body))
			}
		})
	}
	t.Run("gzip", func(t *testing.T) {
		res, body := get(t, "GET", "socket.io.js", http.Header{"Accept-Encoding": {"br, gzip"}})
		if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("headers %v", res.Header)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Contains(plain, []byte("// socket.io.js")) {
			t.Fatalf("gunzip: %v", err)
		}
	})
	t.Run("not a bundle", func(t *testing.T) {
		res, _ := get(t, "GET", "socket.io.esm.min.js", nil)
		if res.StatusCode != 400 { // an engine request without transport
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}

func TestServeClientAbsent(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, host.Options{
		ServeClient: true,
		ClientFiles: fstest.MapFS{".keep": {}},
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if !strings.Contains(logs.String(), "client bundles not embedded; run make client-dist; serveClient answers 404") {
		t.Fatalf("no warning logged: %q", logs.String())
	}
	res, err := h.ts.Client().Get(h.ts.URL + "/engine.io/socket.io.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("status %d, want 404", res.StatusCode)
	}
}

func TestServeClientOff(t *testing.T) {
	h := newHarness(t, host.Options{ClientFiles: fakeBundles()})
	status, _ := h.fetch("GET", "", "")
	if status != 400 {
		t.Fatalf("status %d", status)
	}
	res, err := h.ts.Client().Get(h.ts.URL + "/engine.io/socket.io.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("bundle served with ServeClient off: %d", res.StatusCode)
	}
}

// TestServeClientEmbedded serves the bundles embedded by `make client-dist`.
func TestServeClientEmbedded(t *testing.T) {
	if !clientdist.Available(clientdist.FS()) {
		t.Skip("client bundles not embedded; run make client-dist")
	}
	h := newHarness(t, host.Options{Path: "/socket.io/", ServeClient: true})
	res, err := h.ts.Client().Get(h.ts.URL + "/socket.io/socket.io.min.js")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(b, []byte("Socket.IO v")) {
		t.Fatalf("status %d, %d bytes", res.StatusCode, len(b))
	}
	if v := clientdist.Version(clientdist.FS()); res.Header.Get("ETag") != `"`+v+`"` || v == "" {
		t.Fatalf("ETag %q, version %q", res.Header.Get("ETag"), v)
	}
}

func TestPathOutsidePrefix(t *testing.T) {
	h := newHarness(t, host.Options{})
	res, err := h.ts.Client().Get(h.ts.URL + "/elsewhere/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("status %d", res.StatusCode)
	}
}
