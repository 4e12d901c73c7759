package main

import (
	"fmt"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// staticHandler serves the files of dir (--static) at "/": GET and HEAD
// only, "/" and "/sub/" serve the folder's index.html, no directory
// listings, no dot files, nothing outside dir (os.Root refuses "..",
// absolute paths and symbolic links that leave it). Content types come from
// the file extension (mime.TypeByExtension), else from sniffing. Registered
// on "/", so the longer Socket.IO pattern (/socket.io/) keeps priority on
// the mux.
func staticHandler(dir string) (http.Handler, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("static dir: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("static dir: %s is not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("static dir: %w", err)
	}
	return &static{root: root}, nil
}

type static struct {
	root *os.Root
}

func (s *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := path.Clean("/" + r.URL.Path)
	if strings.HasSuffix(r.URL.Path, "/") {
		name = path.Join(name, "index.html")
	}
	rel := strings.TrimPrefix(name, "/")
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			http.NotFound(w, r)
			return
		}
	}
	f, err := s.root.Open(filepath.FromSlash(rel))
	if err != nil { // missing, unreadable or outside dir: all the same to a client
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if st.IsDir() {
		// "/sub" -> "/sub/" when it has an index, otherwise nothing: no listing
		if idx, err := s.root.Stat(filepath.Join(filepath.FromSlash(rel), "index.html")); err == nil && !idx.IsDir() {
			http.Redirect(w, r, path.Base(name)+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	if !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// no-cache: revalidated (Last-Modified) on every load, so an edit shows at once
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, st.ModTime(), f)
}
