package parser

import "math"

// Decoder reassembles packets from the Engine.IO messages of one connection.
// A binary packet arrives as a text header followed by one binary message per
// attachment; the Decoder holds the header until the last one. A Decoder is
// not safe for concurrent use; use one per connection.
type Decoder struct {
	// MaxAttachments bounds the attachment count a header may announce;
	// zero or less means DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet // binary packet waiting for attachments
	want    int     // attachments pending needs
	lastNS  string  // last custom namespace, reused to avoid an allocation
}

// Add feeds one Engine.IO message, binary or text, and returns the packet it
// completes, or nil while attachments are still expected. A text message
// while attachments are expected, a binary message when none are, or a
// malformed packet is an error; after an error any partial packet is dropped,
// and the caller normally closes the connection. The returned Packet aliases
// data (and the earlier attachment messages), which must stay unmodified.
func (d *Decoder) Add(data []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, errorf(ErrUnexpectedBinary, "%d bytes", len(data))
		}
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.pending = nil
		if err := checkPlaceholders(p.Data, len(p.Attachments)); err != nil {
			return nil, err
		}
		return p, nil
	}
	if p := d.pending; p != nil {
		d.pending = nil
		return nil, errorf(ErrUnexpectedText, "%d attachments missing", d.want-len(p.Attachments))
	}
	p, n, err := d.decode(data)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// Reset drops any packet still waiting for attachments.
func (d *Decoder) Reset() { d.pending = nil }

// decode parses one text message following the grammar
// <type>[<attachments>-][<namespace>,][<id>][<json>] and returns the packet
// and the number of attachments to wait for.
func (d *Decoder) decode(msg []byte) (*Packet, int, error) {
	if len(msg) == 0 {
		return nil, 0, errorf(ErrUnknownType, "empty message")
	}
	if c := msg[0]; c < '0' || c > '6' {
		return nil, 0, errorf(ErrUnknownType, "%q", c)
	}
	p := &Packet{Type: Type(msg[0] - '0'), Namespace: "/", ID: NoID}
	i := 1

	attachments := 0
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for i < len(msg) && isDigit(msg[i]) {
			i++
		}
		if i == start || i >= len(msg) || msg[i] != '-' {
			return nil, 0, errorf(ErrIllegalAttachments, "bad attachment count")
		}
		limit := d.MaxAttachments
		if limit <= 0 {
			limit = DefaultMaxAttachments
		}
		for _, c := range msg[start:i] {
			attachments = attachments*10 + int(c-'0')
			if attachments > limit {
				return nil, 0, errorf(ErrTooManyAttachments, "more than %d", limit)
			}
		}
		i++ // '-'
		// As in the reference decoder, the packet continues as a plain EVENT
		// or ACK whose attachments follow.
		p.Type -= BinaryEvent - Event
	}

	if i < len(msg) && msg[i] == '/' {
		start := i
		for i < len(msg) && msg[i] != ',' {
			i++
		}
		if ns := msg[start:i]; string(ns) != "/" {
			if string(ns) != d.lastNS {
				d.lastNS = string(ns)
			}
			p.Namespace = d.lastNS
		}
		if i < len(msg) {
			i++ // ','
		}
	}

	if i < len(msg) && isDigit(msg[i]) {
		var id int64
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			digit := int64(msg[i] - '0')
			if id > (math.MaxInt64-digit)/10 {
				return nil, 0, errorf(ErrInvalidID, "overflow")
			}
			id = id*10 + digit
		}
		p.ID = id
	}

	if i < len(msg) {
		data := trimSpace(msg[i:])
		if !validJSON(data) {
			return nil, 0, errorf(ErrInvalidPayload, "invalid JSON")
		}
		p.Data = data
	}
	if err := checkPayload(p.Type, p.Data, p.ID != NoID); err != nil {
		return nil, 0, err
	}
	return p, attachments, nil
}
