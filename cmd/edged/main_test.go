package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHealth(t *testing.T) {
	d := &daemon{}
	mux := http.NewServeMux()
	d.health(mux)
	get := func(p string) int {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		return rec.Code
	}
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Errorf("starting: healthz %d readyz %d", get("/healthz"), get("/readyz"))
	}
	d.ready.Store(true)
	if get("/readyz") != 200 {
		t.Errorf("ready: readyz %d", get("/readyz"))
	}
	d.ready.Store(false) // shutting down
	if get("/healthz") != 200 || get("/readyz") != 503 {
		t.Errorf("shutting down: healthz %d readyz %d", get("/healthz"), get("/readyz"))
	}
}
