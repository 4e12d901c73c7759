package parser

import "strconv"

// Encode returns the wire form of p: the text header message and then the
// attachments to send as separate binary messages. An Event or Ack with
// attachments is written as BinaryEvent or BinaryAck ("51-..."), namespace "/"
// is omitted, and Data is copied as-is, so a decoded packet encodes back to
// the bytes it came from. The returned attachments are p.Attachments itself;
// they are nil unless the header announces them. Encode allocates only the
// header and does not validate p (see Packet.Validate).
func Encode(p *Packet) (header []byte, attachments [][]byte) {
	header = AppendEncode(make([]byte, 0, EncodedLen(p)), p)
	if p.IsBinary() {
		attachments = p.Attachments
	}
	return header, attachments
}

// AppendEncode appends the text header message of p to dst and returns the
// extended buffer; the attachments, if any, are p.Attachments.
func AppendEncode(dst []byte, p *Packet) []byte {
	t := p.Type
	binary := p.IsBinary()
	if binary {
		switch t {
		case Event:
			t = BinaryEvent
		case Ack:
			t = BinaryAck
		}
	}
	dst = strconv.AppendUint(dst, uint64(t), 10)
	if binary {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// EncodedLen returns the length of the header message AppendEncode writes for p.
func EncodedLen(p *Packet) int {
	n := decimalLen(uint64(p.Type))
	if p.IsBinary() {
		n += decimalLen(uint64(len(p.Attachments))) + 1
	}
	if p.Namespace != "" && p.Namespace != "/" {
		n += len(p.Namespace) + 1
	}
	if p.ID >= 0 {
		n += decimalLen(uint64(p.ID))
	}
	return n + len(p.Data)
}

func decimalLen(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
