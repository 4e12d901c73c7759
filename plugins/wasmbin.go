package plugins

import (
	"errors"
	"fmt"
)

// This file reads and writes the WebAssembly binary format as far as the
// instrumenter (instrument.go) needs: LEB128 numbers, names, value and block
// types, and the immediates of every instruction it knows.

// skipImmediates reads the immediates of op (already read).
func (r *reader) skipImmediates(op byte) error {
	switch {
	case op == 0x02 || op == 0x04: // block, if
		r.blockType()
	case op <= 0x01, op == 0x05, op == 0x0A, op == 0x0B, op == 0x0F, op == 0x1A, op == 0x1B,
		op == 0xD1, op >= 0x45 && op <= 0xC4:
		// no immediates
	case op == 0x08, op == 0x0C, op == 0x0D, op == 0x10, op == 0x12, op == 0x14, op == 0x15,
		op >= 0x20 && op <= 0x22, op == 0x25, op == 0x26, op == 0x3F, op == 0x40, op == 0xD2:
		r.u32()
	case op == 0x0E: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11, op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1C: // select t*
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			if !r.valType() {
				return fmt.Errorf("%w: typed select of reference type", errNotInstrumentable)
			}
		}
	case op == 0x1F: // try_table
		r.blockType()
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			switch kind := r.byte(); kind {
			case 0x00, 0x01:
				r.u32()
				r.u32()
			case 0x02, 0x03:
				r.u32()
			default:
				return fmt.Errorf("%w: catch clause 0x%02x", errNotInstrumentable, kind)
			}
		}
	case op >= 0x28 && op <= 0x3E: // loads and stores
		r.memArg()
	case op == 0x41, op == 0x42: // i32.const, i64.const
		r.s64()
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xD0: // ref.null
		r.s64()
	case op == 0xFC:
		return r.skipMisc()
	case op == 0xFD:
		return r.skipSIMD()
	default:
		return fmt.Errorf("%w: opcode 0x%02x", errNotInstrumentable, op)
	}
	return nil
}

// skipMisc reads a 0xFC-prefixed instruction (saturating truncation, bulk
// memory, table operations).
func (r *reader) skipMisc() error {
	switch sub := r.u32(); {
	case sub <= 7:
	case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
		r.u32()
	default:
		return fmt.Errorf("%w: opcode 0xfc %d", errNotInstrumentable, sub)
	}
	return nil
}

// skipSIMD reads a 0xFD-prefixed (vector) instruction.
func (r *reader) skipSIMD() error {
	switch sub := r.u32(); {
	case sub <= 0x0B, sub == 0x5C, sub == 0x5D: // loads, store, load_zero
		r.memArg()
	case sub == 0x0C, sub == 0x0D: // v128.const, i8x16.shuffle
		r.bytes(16)
	case sub >= 0x15 && sub <= 0x22: // extract/replace lane
		r.byte()
	case sub >= 0x54 && sub <= 0x5B: // load/store lane
		r.memArg()
		r.byte()
	case sub <= 0x113:
		// no immediates
	default:
		return fmt.Errorf("%w: opcode 0xfd %d", errNotInstrumentable, sub)
	}
	return nil
}

// reader decodes the WebAssembly binary format; the first error sticks and
// later reads return zero values.
type reader struct {
	b   []byte
	pos int
	err error
}

var errTruncated = errors.New("unexpected end")

func (r *reader) done() bool { return r.err != nil || r.pos >= len(r.b) }

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.err = errTruncated
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.pos {
		r.err = errTruncated
		return nil
	}
	p := r.b[r.pos : r.pos+n]
	r.pos += n
	return p
}

// u64 reads an unsigned LEB128 of at most 10 bytes.
func (r *reader) u64() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7F) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errors.New("LEB128 too long")
	return 0
}

func (r *reader) u32() uint32 {
	v := r.u64()
	if v > 1<<32-1 && r.err == nil {
		r.err = errors.New("u32 out of range")
	}
	return uint32(v)
}

// s64 reads a signed LEB128 of at most 10 bytes and returns it.
func (r *reader) s64() int64 {
	var v int64
	shift := 0
	for ; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7F) << shift
		if c&0x80 == 0 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v
		}
	}
	r.err = errors.New("LEB128 too long")
	return 0
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

// valType reads a value type; it reports false for the typed references of
// the GC and function-references proposals (which carry a heap type).
func (r *reader) valType() bool {
	c := r.byte()
	return c != 0x63 && c != 0x64
}

// blockType reads a block type: empty, one value type, or a type index.
func (r *reader) blockType() {
	v := r.s64()
	if v == -29 || v == -28 { // 0x63 / 0x64: reference with heap type
		r.s64()
	}
}

func (r *reader) limits() {
	flags := r.byte()
	r.u64()
	if flags&1 != 0 {
		r.u64()
	}
}

// memArg reads alignment (with the multi-memory flag) and offset.
func (r *reader) memArg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.u32()
	}
	r.u64()
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
