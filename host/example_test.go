package host_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/edged-io/edged/host"
)

// echoHandler sends every message of a session back to it.
type echoHandler struct{ c *host.Conn }

func (e echoHandler) OnMessage(data []byte, binary bool) {
	_ = e.c.Send(host.Message{Data: data, Binary: binary})
}

func (echoHandler) OnClose(reason string, _ error) {}

// An echo server mounted on a ServeMux, driven by a polling client.
func ExampleNewServer() {
	engine := host.NewServer(host.Options{
		Path: "/engine.io/",
		OnConnection: func(c *host.Conn) {
			c.SetHandler(echoHandler{c})
		},
	})
	defer engine.Close()
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", engine)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	get := func(url string) string {
		res, err := http.Get(url)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := get(ts.URL + "/engine.io/?EIO=4&transport=polling")
	var handshake struct {
		SID      string   `json:"sid"`
		Upgrades []string `json:"upgrades"`
	}
	_ = json.Unmarshal([]byte(open[1:]), &handshake)
	fmt.Println("upgrades:", handshake.Upgrades)

	session := ts.URL + "/engine.io/?EIO=4&transport=polling&sid=" + handshake.SID
	res, err := http.Post(session, "text/plain;charset=UTF-8", strings.NewReader("4hello\x1ebAQID"))
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Printf("%q\n", get(session))
	fmt.Println("clients:", engine.ClientsCount())
	// Output:
	// upgrades: [websocket]
	// "4hello\x1ebAQID"
	// clients: 1
}
