package plugins

import (
	"errors"
	"fmt"
	"strings"
)

// The call deadline of an untrusted plugin is enforced by instrumenting the
// module before it is compiled: it gains a mutable i32 global, exported as
// stopExport, and every function body and every loop body starts with
//
//	global.get $stop  if  unreachable  end
//
// The host sets the global when a call's deadline passes; the guest traps at
// its next function entry or loop iteration, which bounds every call (code
// without calls or loops is bounded by its size). This costs a load and a
// branch where wazero's own CloseOnContextDone costs a call into a trampoline
// at every loop header and a goroutine per call, about 4× the time of a Go
// guest's call. A module the instrumenter does not fully understand (an
// opcode outside the proposals it knows) is compiled as it is, with wazero's
// CloseOnContextDone instead.

// stopExport names the stop flag's export; it does not start with "edged_",
// which the ABI reserves for the plugin's own exports.
const stopExport = "__edged_stop"

// errNotInstrumentable says the module uses a construct the instrumenter
// does not parse; the caller falls back to wazero's CloseOnContextDone.
var errNotInstrumentable = errors.New("module not instrumentable")

// Section ids of the WebAssembly binary format.
const (
	secCustom   = 0
	secImport   = 2
	secGlobal   = 6
	secExport   = 7
	secCode     = 10
	secDataCnt  = 12
	secTag      = 13
	importFunc  = 0
	importTable = 1
	importMem   = 2
	importGlob  = 3
	importTag   = 4
)

// sectionOrder is the position of a known section in a module, which the
// format requires to be increasing (the tag section sits before globals,
// data count before code).
func sectionOrder(id byte) int {
	switch id {
	case secTag:
		return 55 // between memory (5) and global (6)
	case secDataCnt:
		return 95 // between element (9) and code (10)
	default:
		return int(id) * 10
	}
}

type section struct {
	id   byte
	body []byte
}

// instrument returns a copy of the module wasm with the stop flag and its
// checks (see above). It returns errNotInstrumentable, wrapped, when the
// module uses something it does not parse, and other errors for a malformed
// module (which the compiler would refuse as well).
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("not a WebAssembly 1.0 binary")
	}
	r := &reader{b: wasm, pos: 8}
	var sections []section
	for !r.done() {
		id := r.byte()
		n := r.u32()
		body := r.bytes(int(n))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		sections = append(sections, section{id, body})
	}

	importedGlobals, definedGlobals := 0, 0
	var exports []byte
	haveGlobal, haveExport := false, false
	for _, s := range sections {
		var err error
		switch s.id {
		case secImport:
			importedGlobals, err = countImportedGlobals(s.body)
		case secGlobal:
			haveGlobal = true
			definedGlobals, err = countVec(s.body)
		case secExport:
			haveExport = true
			exports = s.body
			err = checkExportName(s.body, stopExport)
		}
		if err != nil {
			return nil, err
		}
	}
	stop := uint32(importedGlobals + definedGlobals)

	out := make([]byte, 0, len(wasm)+len(wasm)/8+64)
	out = append(out, wasm[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// The stop global: mutable i32 initialised to 0.
	stopGlobal := []byte{0x7F, 0x01, 0x41, 0x00, 0x0B}
	stopExportEntry := appendName(nil, stopExport)
	stopExportEntry = append(stopExportEntry, importGlob)
	stopExportEntry = appendU32(stopExportEntry, stop)

	for _, s := range sections {
		if s.id != secCustom {
			// A missing global or export section goes before the first
			// section that must follow it.
			ord := sectionOrder(s.id)
			if !haveGlobal && ord > sectionOrder(secGlobal) {
				emit(secGlobal, append(appendU32(nil, 1), stopGlobal...))
				haveGlobal = true
			}
			if !haveExport && ord > sectionOrder(secExport) {
				emit(secExport, append(appendU32(nil, 1), stopExportEntry...))
				haveExport = true
			}
		}
		switch s.id {
		case secCustom:
			// DWARF describes code offsets that the checks shift; drop it
			// rather than let traces point at the wrong lines.
			if name, err := customName(s.body); err != nil || strings.HasPrefix(name, ".debug") {
				continue
			}
			emit(s.id, s.body)
		case secGlobal:
			emit(s.id, appendToVec(s.body, stopGlobal))
		case secExport:
			emit(s.id, appendToVec(exports, stopExportEntry))
		case secCode:
			code, err := instrumentCode(s.body, stop)
			if err != nil {
				return nil, err
			}
			emit(s.id, code)
		default:
			emit(s.id, s.body)
		}
	}
	if !haveGlobal {
		emit(secGlobal, append(appendU32(nil, 1), stopGlobal...))
	}
	if !haveExport {
		emit(secExport, append(appendU32(nil, 1), stopExportEntry...))
	}
	return out, nil
}

// countImportedGlobals returns how many imports of an import section are
// globals (they come first in the global index space).
func countImportedGlobals(body []byte) (int, error) {
	r := &reader{b: body}
	n := r.u32()
	globals := 0
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case importFunc, importTag:
			if kind == importTag {
				r.byte() // attribute
			}
			r.u32()
		case importTable:
			if !r.valType() {
				return 0, fmt.Errorf("%w: table of reference type with heap type", errNotInstrumentable)
			}
			r.limits()
		case importMem:
			r.limits()
		case importGlob:
			if !r.valType() {
				return 0, fmt.Errorf("%w: global of reference type with heap type", errNotInstrumentable)
			}
			r.byte() // mutability
			globals++
		default:
			return 0, fmt.Errorf("import kind 0x%02x: %w", kind, errNotInstrumentable)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("import section: %w", r.err)
	}
	return globals, nil
}

// checkExportName refuses a module that already exports name.
func checkExportName(body []byte, name string) error {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		if r.name() == name {
			return fmt.Errorf("%w: export %q already exists", errNotInstrumentable, name)
		}
		r.byte()
		r.u32()
	}
	if r.err != nil {
		return fmt.Errorf("export section: %w", r.err)
	}
	return nil
}

func customName(body []byte) (string, error) {
	r := &reader{b: body}
	name := r.name()
	return name, r.err
}

func countVec(body []byte) (int, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil {
		return 0, r.err
	}
	return int(n), nil
}

// appendToVec returns the vector body with one more count and entry added.
func appendToVec(body, entry []byte) []byte {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n+1)
	out = append(out, body[r.pos:]...)
	return append(out, entry...)
}

// instrumentCode rewrites a code section: the stop check after each body's
// locals and at the start of each loop body.
func instrumentCode(body []byte, stop uint32) ([]byte, error) {
	check := []byte{0x23}
	check = appendU32(check, stop)
	check = append(check, 0x04, 0x40, 0x00, 0x0B) // if (empty) unreachable end

	r := &reader{b: body}
	n := r.u32()
	out := make([]byte, 0, len(body)+len(body)/4)
	out = appendU32(out, n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("code section: body %d: %w", i, r.err)
		}
		var err error
		fn, err = instrumentBody(fn[:0], code, check, stop)
		if err != nil {
			return nil, fmt.Errorf("code section: body %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if !r.done() {
		return nil, errors.New("code section: trailing bytes")
	}
	return out, nil
}

// instrumentBody appends to out the function body code with the checks.
func instrumentBody(out, code, check []byte, stop uint32) ([]byte, error) {
	r := &reader{b: code}
	groups := r.u32()
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		if !r.valType() {
			return nil, fmt.Errorf("%w: local of reference type with heap type", errNotInstrumentable)
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("locals: %w", r.err)
	}
	out = append(out, code[:r.pos]...)
	out = append(out, check...)
	copied := r.pos
	for !r.done() {
		op := r.byte()
		var err error
		switch op {
		case 0x03: // loop
			r.blockType()
			if r.err == nil {
				out = append(out, code[copied:r.pos]...)
				out = append(out, check...)
				copied = r.pos
			}
		case 0x23, 0x24: // global.get, global.set
			if idx := r.u32(); r.err == nil && idx >= stop {
				return nil, fmt.Errorf("global index %d out of range", idx)
			}
		default:
			err = r.skipImmediates(op)
		}
		if err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, fmt.Errorf("opcode 0x%02x at %d: %w", op, r.pos, r.err)
		}
	}
	return append(out, code[copied:]...), nil
}

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

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
