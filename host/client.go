package host

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/edged-io/edged/host/clientdist"
)

// clientFiles serves the Socket.IO browser bundles (Options.ServeClient).
type clientFiles struct {
	fsys      fs.FS
	available bool
	etag      string

	mu    sync.Mutex
	cache map[string]*clientFile
}

// clientFile is one bundle, read once, with its gzip encoding made on
// first demand.
type clientFile struct {
	raw      []byte
	gzipOnce sync.Once
	gz       []byte
}

func newClientFiles(fsys fs.FS) *clientFiles {
	if fsys == nil {
		fsys = clientdist.FS()
	}
	cf := &clientFiles{fsys: fsys, available: clientdist.Available(fsys), cache: make(map[string]*clientFile)}
	if !cf.available {
		return cf
	}
	// The reference server's ETag is its version, quoted; ours is the version
	// of the embedded client, or a hash of it when it has no banner.
	version := clientdist.Version(fsys)
	if version == "" {
		if raw, err := fs.ReadFile(fsys, "socket.io.js"); err == nil {
			sum := sha256.Sum256(raw)
			version = hex.EncodeToString(sum[:8])
		}
	}
	cf.etag = `"` + version + `"`
	return cf
}

// serveClient serves r if it asks for a client bundle, and reports whether
// it did. The files live at <Path without trailing slash>/<name>.
func (s *Server) serveClient(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	name := strings.TrimPrefix(r.URL.Path, s.cfg.Path)
	if !slices.Contains(clientdist.Names, name) {
		return false
	}
	cf := s.client
	if !cf.available {
		http.NotFound(w, r)
		return true
	}
	f, err := cf.file(name)
	if err != nil {
		s.log.Error("engine: read client bundle", "name", name, "error", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return true
	}
	h := w.Header()
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == cf.etag || inm == "W/"+cf.etag) {
		h.Set("ETag", cf.etag)
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h.Set("Cache-Control", "public, max-age=0")
	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
	}
	h.Set("ETag", cf.etag)
	addVary(h, "Accept-Encoding")
	body := f.raw
	if acceptsGzip(r) {
		body = f.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return true
}

func (cf *clientFiles) file(name string) (*clientFile, error) {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if f, ok := cf.cache[name]; ok {
		return f, nil
	}
	raw, err := fs.ReadFile(cf.fsys, name)
	if err != nil {
		return nil, err
	}
	f := &clientFile{raw: raw}
	cf.cache[name] = f
	return f, nil
}

func (f *clientFile) gzipped() []byte {
	f.gzipOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(f.raw)
		_ = zw.Close()
		f.gz = b.Bytes()
	})
	return f.gz
}

// acceptsGzip reports whether the Accept-Encoding of r admits gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}
