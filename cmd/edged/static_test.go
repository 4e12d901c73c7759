package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStaticHandler(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index.html", "<!doctype html><title>chat</title>")
	write("app.css", "body{}")
	write("app.js", "let x = 1;")
	write("sub/index.html", "<p>sub</p>")
	write("empty/readme.txt", "no index here")
	write(".secret", "nope")
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	h, err := staticHandler(dir)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "engine") }))
	mux.Handle("/", h)

	cases := []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "<title>chat</title>"},
		{"GET", "/index.html", 200, "text/html; charset=utf-8", "<title>chat</title>"},
		{"GET", "/app.css", 200, "text/css; charset=utf-8", "body{}"},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8", "let x"},
		{"HEAD", "/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/sub/", 200, "text/html; charset=utf-8", "sub"},
		{"GET", "/sub", 301, "", ""},
		{"GET", "/empty/", 404, "", ""},
		{"GET", "/empty", 404, "", ""},
		{"GET", "/missing.js", 404, "", ""},
		{"GET", "/.secret", 404, "", ""},
		{"POST", "/", 405, "", ""},
		{"GET", "/socket.io/?EIO=4", 200, "", "engine"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(c.method, "http://edged"+c.path, nil)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s %s: code %d, want %d", c.method, c.path, rec.Code, c.code)
			continue
		}
		if c.ctype != "" && rec.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: content type %q, want %q", c.method, c.path, rec.Header().Get("Content-Type"), c.ctype)
		}
		if c.body != "" && !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s %s: body %q, want it to contain %q", c.method, c.path, rec.Body.String(), c.body)
		}
	}
	// straight to the handler (the mux would clean the path first): nothing outside dir
	for _, p := range []string{"/../" + filepath.Base(outside) + "/secret.txt", "/link/secret.txt"} {
		req := httptest.NewRequest("GET", "http://edged/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 404 {
			t.Errorf("GET %s: code %d, want 404", p, rec.Code)
		}
	}
	if _, err := staticHandler(filepath.Join(dir, "app.css")); err == nil {
		t.Error("a file as the static dir: no error")
	}
	if _, err := staticHandler(filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing static dir: no error")
	}
}
