package parser_test

import (
	"fmt"

	"github.com/edged-io/edged/core/parser"
)

func ExampleEncode() {
	p := &parser.Packet{Type: parser.Event, Namespace: "/admin", ID: 12, Data: []byte(`["hello",1]`)}
	header, _ := parser.Encode(p)
	fmt.Printf("%s\n", header)

	// []byte arguments become attachments sent after the header.
	data, atts, _ := parser.MarshalArgs([]any{"upload", []byte{1, 2, 3}})
	header, atts = parser.Encode(&parser.Packet{Type: parser.Event, ID: parser.NoID, Data: data, Attachments: atts})
	fmt.Printf("%s + %d attachment(s)\n", header, len(atts))
	// Output:
	// 2/admin,12["hello",1]
	// 51-["upload",{"_placeholder":true,"num":0}] + 1 attachment(s)
}

func ExampleDecoder() {
	var d parser.Decoder
	messages := []struct {
		data   string
		binary bool
	}{
		{`2["chat","hi"]`, false},
		{`51-/files,7["upload",{"_placeholder":true,"num":0}]`, false},
		{"\x01\x02\x03", true},
	}
	for _, m := range messages {
		p, err := d.Add([]byte(m.data), m.binary)
		if err != nil {
			fmt.Println("close the connection:", err)
			return
		}
		if p == nil {
			fmt.Println("waiting for attachments")
			continue
		}
		name, args, _ := parser.SplitEvent(p.Data)
		values, _ := parser.UnmarshalArgs(args, p.Attachments)
		fmt.Printf("%s %s id=%d %q %v\n", p.Type, p.Namespace, p.ID, name, values)
	}
	// Output:
	// EVENT / id=-1 "chat" [hi]
	// waiting for attachments
	// EVENT /files id=7 "upload" [[1 2 3]]
}

func ExampleSplitEvent() {
	name, args, _ := parser.SplitEvent([]byte(`["message",{"text":"hi"},2]`))
	fmt.Println(name, string(args))
	// Output: message [{"text":"hi"},2]
}
