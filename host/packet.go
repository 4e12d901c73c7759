package host

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

// Engine.IO v4 packet types, as their wire characters.
const (
	packetOpen    byte = '0'
	packetClose   byte = '1'
	packetPing    byte = '2'
	packetPong    byte = '3'
	packetMessage byte = '4'
	packetUpgrade byte = '5'
	packetNoop    byte = '6'
)

// recordSeparator separates the packets of a polling payload.
const recordSeparator = 0x1e

// binaryPrefix marks a base64-encoded binary message in a text encoding.
const binaryPrefix = 'b'

// packet is one Engine.IO packet. For a message, binary tells whether data
// is raw bytes (a binary frame, or base64 with the "b" prefix on polling).
type packet struct {
	typ    byte
	data   []byte
	binary bool
}

var probe = []byte("probe")

// isProbe reports whether p carries the "probe" payload of the upgrade handshake.
func (p packet) isProbe() bool { return bytes.Equal(p.data, probe) }

// decodePacket decodes one text-encoded packet: a polling payload record or
// a WebSocket text frame. The data of a plain packet aliases src; the data of
// a base64 binary message is freshly allocated.
func decodePacket(src []byte) (packet, error) {
	if len(src) == 0 {
		return packet{}, fmt.Errorf("empty packet: %w", ErrBadPacket)
	}
	switch t := src[0]; {
	case t == binaryPrefix:
		data, err := decodeBase64(src[1:])
		if err != nil {
			return packet{}, fmt.Errorf("binary packet: %w: %w", ErrBadPacket, err)
		}
		return packet{typ: packetMessage, data: data, binary: true}, nil
	case t >= packetOpen && t <= packetNoop:
		return packet{typ: t, data: src[1:]}, nil
	default:
		return packet{}, fmt.Errorf("unknown packet type %q: %w", t, ErrBadPacket)
	}
}

// decodeFrame decodes one WebSocket message: a binary frame is always a
// binary message packet, a text frame one text-encoded packet.
func decodeFrame(data []byte, binary bool) (packet, error) {
	if binary {
		return packet{typ: packetMessage, data: data, binary: true}, nil
	}
	return decodePacket(data)
}

// decodePayload decodes a polling POST body, packets separated by 0x1e. On a
// malformed packet it returns the packets before it together with the error,
// as the reference parser stops at the first error packet.
func decodePayload(body []byte) ([]packet, error) {
	n := bytes.Count(body, []byte{recordSeparator}) + 1
	pkts := make([]packet, 0, n)
	for {
		i := bytes.IndexByte(body, recordSeparator)
		rec := body
		if i >= 0 {
			rec = body[:i]
		}
		p, err := decodePacket(rec)
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p)
		if i < 0 {
			return pkts, nil
		}
		body = body[i+1:]
	}
}

// decodeBase64 decodes standard or URL-safe base64, padded or not, as
// Node's Buffer.from(s, "base64") accepts both.
func decodeBase64(s []byte) ([]byte, error) {
	s = bytes.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	dst := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(dst, s)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}

// encodedLen returns the length of p in a polling payload.
func (p packet) encodedLen() int {
	if p.binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.data))
	}
	return 1 + len(p.data)
}

// appendPacket appends the text encoding of p: its type and data, or "b" and
// the base64 of a binary message.
func appendPacket(dst []byte, p packet) []byte {
	if p.binary {
		dst = append(dst, binaryPrefix)
		return base64.StdEncoding.AppendEncode(dst, p.data)
	}
	dst = append(dst, p.typ)
	return append(dst, p.data...)
}

// appendPayload appends the polling payload of pkts, separated by 0x1e.
func appendPayload(dst []byte, pkts []packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = appendPacket(dst, p)
	}
	return dst
}

// payloadLen returns the length of the polling payload of pkts.
func payloadLen(pkts []packet) int {
	n := 0
	for i, p := range pkts {
		if i > 0 {
			n++
		}
		n += p.encodedLen()
	}
	return n
}
