// Package clientdist embeds the official Socket.IO browser client bundles
// (socket.io-client, fetched by `make client-dist`) so that the host can serve
// them at <path>/socket.io.js and friends.
//
// A build made without running `make client-dist` embeds only the placeholder
// dist/.keep; Available then reports false and the bundles are absent.
package clientdist

import (
	"embed"
	"io"
	"io/fs"
	"regexp"
)

//go:embed all:dist
var dist embed.FS

// Names lists the bundle files served by the host, in the order of the
// reference Socket.IO server (sources first, each followed by its map).
var Names = []string{
	"socket.io.js",
	"socket.io.js.map",
	"socket.io.min.js",
	"socket.io.min.js.map",
	"socket.io.msgpack.min.js",
	"socket.io.msgpack.min.js.map",
}

// FS returns the embedded bundle directory; file names are the entries of Names.
func FS() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails on an invalid path, and "dist" is valid.
		panic("clientdist: " + err.Error())
	}
	return sub
}

// Available reports whether every bundle listed in Names is embedded in fsys.
func Available(fsys fs.FS) bool {
	for _, name := range Names {
		if _, err := fs.Stat(fsys, name); err != nil {
			return false
		}
	}
	return true
}

var bannerVersion = regexp.MustCompile(`Socket\.IO v([0-9][0-9A-Za-z.+-]*)`)

// Version returns the client version announced in the banner comment of
// socket.io.js in fsys (for example "4.8.1"), or "" when it cannot be read.
func Version(fsys fs.FS) string {
	f, err := fsys.Open("socket.io.js")
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 256)
	n, _ := io.ReadFull(f, head)
	m := bannerVersion.FindSubmatch(head[:n])
	if m == nil {
		return ""
	}
	return string(m[1])
}
