// Package parser encodes and decodes Socket.IO protocol v5 packets with the
// default JSON parser of the reference implementation (socket.io-parser).
//
// A packet is one text message
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed, for BINARY_EVENT and BINARY_ACK, by one binary message per
// attachment; the payload then holds {"_placeholder":true,"num":N} objects
// where attachment N belongs. Encode writes that form; a Decoder reassembles
// it from the messages of one connection; MarshalArgs and UnmarshalArgs
// convert between Go values and payloads; SplitEvent takes an event name off
// its arguments.
//
// # Key invariants
//
//   - Never panics on input: every malformed message is an error wrapping one
//     of the Err* values, and a Decoder bounds attachments by MaxAttachments.
//   - Payloads are raw JSON: Encode copies Packet.Data as-is (never
//     re-marshalled) and allocates only the header; decoding validates the
//     JSON without building values and returns Data as a sub-slice of the
//     message, so a decoded Packet aliases its input.
//   - Round trip: Encode of a decoded packet reproduces the message it came
//     from whenever that message is in the canonical form the reference
//     encoder writes, and always decodes back to an equal packet.
//   - Concurrency: Encode, AppendEncode, Packet methods and the helpers are
//     safe for concurrent use on values nobody modifies; a Decoder is not (use
//     one per connection).
//
// # Acceptance rules
//
// The Decoder follows the reference decoder: the type is one digit from 0 to
// 6; a namespace is present only when the text after the type (and the
// attachment count) starts with "/" and runs to the first ","; the ack id is
// the digits after that; the rest is the JSON payload, which must be an
// object or absent for CONNECT, absent for DISCONNECT, a string or an object
// for CONNECT_ERROR, an array whose first element is a string or a number for
// EVENT and BINARY_EVENT, and an array for ACK and BINARY_ACK. A decoded
// binary packet has Type Event or Ack with its Attachments set, as in the
// reference. Where the reference accepts input only by accident of
// JavaScript conversions, or where the protocol says MUST, this package is
// stricter:
//
//   - an empty message or a non-digit type is an unknown type (the reference
//     reads "" or " " as CONNECT);
//   - the attachment count and the ack id are ASCII digits (the reference
//     also reads "0x2", " 2" or nothing before the "-" as a count, and spaces
//     as ack id digits), and an ack id must fit in an int64;
//   - EVENT and ACK must have a payload, and ACK must have an ack id (the
//     protocol requires both; the reference decoder lets them through);
//   - a placeholder's num must be an integer (the reference maps 0.5 to
//     undefined);
//   - a binary header announcing zero attachments ("50-[...]") yields a
//     plain packet and leaves the Decoder ready for the next one (the
//     reference emits the packet too, but then fails on the next text
//     message as if attachments were still due).
//
// These differences, and agreement everywhere else, were checked by feeding
// the fuzz corpus to the reference decoder.
//
// Reserved event names ("connect", "disconnect", ...) are accepted here;
// refusing them is the server's job (see IsReservedEvent).
package parser
