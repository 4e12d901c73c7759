package plugins

import (
	"errors"
	"fmt"
	"strings"
)

// The call deadline of an untrusted plugin is enforced by instrumenting the
// module before it is compiled. It gains a mutable i32 global, the fuel, and
// an import of a host function, yieldModule.yieldName of type () -> i32; every
// function body and every loop body then starts with
//
//	global.get $fuel  i32.const 1  i32.sub  global.set $fuel
//	global.get $fuel  i32.eqz  if  call $yield  global.set $fuel  end
//
// Every yieldFuel checks the guest calls into Go: the host checks the call's
// deadline (and traps the guest past it) and returns fresh fuel. Code without
// calls or loops is bounded by its size, so every call is bounded. The call
// into Go matters as much as the check: native guest code cannot be
// preempted, and a guest that never left it would hold up the Go runtime's
// stop-the-world phases, and with them the whole server.
//
// This costs a few instructions where wazero's own CloseOnContextDone leaves
// native code at every loop header and starts a goroutine per call (about 4×
// the time of a Go guest's event call). A module the instrumenter does not
// fully understand (an opcode or encoding outside the proposals it knows) is
// compiled as it is, with wazero's CloseOnContextDone instead.
//
// The import is appended after the module's own function imports, so the
// indices of the module's defined functions move up by one: calls, ref.func,
// exports, the start function, element segments and the name section are
// renumbered.

// yieldModule and yieldName name the host function the instrumentation
// imports. A module that imports from yieldModule itself is not instrumented
// (and then fails validation, as the module is not available to plugins).
const (
	yieldModule = "edged_internal"
	yieldName   = "yield"
)

// yieldFuel is how many checks run between two yields.
const yieldFuel = 4096

// errNotInstrumentable says the module uses a construct the instrumenter
// does not parse; the caller falls back to wazero's CloseOnContextDone.
var errNotInstrumentable = errors.New("module not instrumentable")

// Section ids of the WebAssembly binary format.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secElement  = 9
	secCode     = 10
	secDataCnt  = 12
	secTag      = 13
	secTable    = 4
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

// module is what the instrumenter needs to know about a module.
type module struct {
	types           uint32 // entries of the type section
	importedFuncs   uint32
	importedGlobals uint32
	definedGlobals  uint32
}

// renumber maps a function index of the original module to the instrumented
// one, where the yield import sits after the original function imports.
func (m *module) renumber(f uint32) uint32 {
	if f >= m.importedFuncs {
		return f + 1
	}
	return f
}

// instrument returns a copy of the module wasm with the fuel checks and the
// yield import (see above). It returns errNotInstrumentable, wrapped, when
// the module uses something it does not parse, and other errors for a
// malformed module (which the compiler would refuse as well).
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

	var m module
	for _, s := range sections {
		var err error
		switch s.id {
		case secType:
			m.types, err = countTypes(s.body)
		case secImport:
			m.importedFuncs, m.importedGlobals, err = countImports(s.body)
		case secGlobal:
			m.definedGlobals, err = countVec(s.body)
		case secTable:
			err = checkTables(s.body)
		}
		if err != nil {
			return nil, err
		}
	}
	fuel := m.importedGlobals + m.definedGlobals
	yield := m.importedFuncs

	out := make([]byte, 0, len(wasm)+len(wasm)/4+64)
	out = append(out, wasm[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	yieldType := []byte{0x60, 0x00, 0x01, 0x7F} // () -> i32
	yieldImport := appendName(nil, yieldModule)
	yieldImport = appendName(yieldImport, yieldName)
	yieldImport = append(yieldImport, importFunc)
	yieldImport = appendU32(yieldImport, m.types)
	fuelGlobal := []byte{0x7F, 0x01, 0x41} // mutable i32 = yieldFuel
	fuelGlobal = appendS32(fuelGlobal, yieldFuel)
	fuelGlobal = append(fuelGlobal, 0x0B)

	// missing sections are created before the first section that must follow them
	missing := []struct {
		id   byte
		body []byte
		done bool
	}{
		{secType, append(appendU32(nil, 1), yieldType...), false},
		{secImport, append(appendU32(nil, 1), yieldImport...), false},
		{secGlobal, append(appendU32(nil, 1), fuelGlobal...), false},
	}
	for _, s := range sections {
		switch s.id {
		case secType:
			missing[0].done = true
		case secImport:
			missing[1].done = true
		case secGlobal:
			missing[2].done = true
		}
	}
	emitMissing := func(before int) {
		for i := range missing {
			if !missing[i].done && sectionOrder(missing[i].id) < before {
				emit(missing[i].id, missing[i].body)
				missing[i].done = true
			}
		}
	}
	for _, s := range sections {
		if s.id != secCustom {
			emitMissing(sectionOrder(s.id))
		}
		var body []byte
		var err error
		switch s.id {
		case secCustom:
			body, err = m.customSection(s.body)
		case secType:
			body = appendToVec(s.body, yieldType)
		case secImport:
			body, err = importsWithYield(s.body, yieldImport)
		case secGlobal:
			body, err = m.globals(s.body, fuelGlobal)
		case secExport:
			body, err = m.exports(s.body)
		case secStart:
			r := &reader{b: s.body}
			f := r.u32()
			if r.err != nil || !r.done() {
				return nil, errors.New("start section: malformed")
			}
			body = appendU32(nil, m.renumber(f))
		case secElement:
			body, err = m.elements(s.body)
		case secCode:
			body, err = m.code(s.body, fuel, yield)
		default:
			body = s.body
		}
		if err != nil {
			return nil, err
		}
		if body != nil {
			emit(s.id, body)
		}
	}
	emitMissing(1 << 30)
	return out, nil
}

// countTypes counts the entries of a type section; the recursive and
// sub-types of the GC proposal are not instrumented.
func countTypes(body []byte) (uint32, error) {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); form != 0x60 {
			return 0, fmt.Errorf("%w: type form 0x%02x", errNotInstrumentable, form)
		}
		for range 2 { // params, results
			k := r.u32()
			for j := uint32(0); j < k && r.err == nil; j++ {
				if !r.valType() {
					return 0, fmt.Errorf("%w: typed reference in a function type", errNotInstrumentable)
				}
			}
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("type section: %w", r.err)
	}
	return n, nil
}

// checkTables refuses tables with an initialiser expression (function
// references proposal), which could hold ref.func.
func checkTables(body []byte) error {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		if !r.valType() {
			return fmt.Errorf("%w: table with an initialiser", errNotInstrumentable)
		}
		r.limits()
	}
	if r.err != nil {
		return fmt.Errorf("table section: %w", r.err)
	}
	return nil
}

// importsWithYield appends the yield import to an import section, after
// checking that the module does not import from yieldModule itself.
func importsWithYield(body, entry []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		if r.name() == yieldModule {
			return nil, fmt.Errorf("%w: imports from %s", errNotInstrumentable, yieldModule)
		}
		r.name()
		r.skipImportDesc()
	}
	if r.err != nil {
		return nil, fmt.Errorf("import section: %w", r.err)
	}
	return appendToVec(body, entry), nil
}

// globals renumbers ref.func in the initialisers and appends the fuel.
func (m *module) globals(body, fuel []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n+1)
	for i := uint32(0); i < n && r.err == nil; i++ {
		start := r.pos
		if !r.valType() {
			return nil, fmt.Errorf("%w: global of typed reference", errNotInstrumentable)
		}
		r.byte() // mutability
		out = append(out, body[start:r.pos]...)
		var err error
		if out, err = m.constExpr(out, r); err != nil {
			return nil, fmt.Errorf("global %d: %w", i, err)
		}
	}
	if r.err != nil || !r.done() {
		return nil, fmt.Errorf("global section: malformed")
	}
	return append(out, fuel...), nil
}

// exports renumbers the exported functions.
func (m *module) exports(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		out = appendName(out, r.name())
		kind := r.byte()
		idx := r.u32()
		if kind == importFunc {
			idx = m.renumber(idx)
		}
		out = appendU32(append(out, kind), idx)
	}
	if r.err != nil || !r.done() {
		return nil, fmt.Errorf("export section: malformed")
	}
	return out, nil
}

// elements renumbers the functions of the element segments, in each of the
// eight encodings.
func (m *module) elements(body []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		if flags > 7 {
			return nil, fmt.Errorf("element segment %d: flags %d", i, flags)
		}
		out = appendU32(out, flags)
		var err error
		if flags&3 == 2 { // explicit table index
			out = appendU32(out, r.u32())
		}
		if flags&1 == 0 { // active: offset expression
			if out, err = m.constExpr(out, r); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // elemkind or reftype
			c := r.byte()
			if c == 0x63 || c == 0x64 {
				return nil, fmt.Errorf("%w: element segment of typed references", errNotInstrumentable)
			}
			out = append(out, c)
		}
		k := r.u32()
		out = appendU32(out, k)
		for j := uint32(0); j < k && r.err == nil; j++ {
			if flags&4 == 0 {
				out = appendU32(out, m.renumber(r.u32()))
			} else if out, err = m.constExpr(out, r); err != nil {
				return nil, err
			}
		}
	}
	if r.err != nil || !r.done() {
		return nil, fmt.Errorf("element section: malformed")
	}
	return out, nil
}

// constExpr copies a constant expression up to its end, renumbering ref.func.
func (m *module) constExpr(out []byte, r *reader) ([]byte, error) {
	for {
		start := r.pos
		op := r.byte()
		switch op {
		case 0x0B:
			return append(out, op), r.err
		case 0xD2:
			out = appendU32(append(out, op), m.renumber(r.u32()))
		default:
			if err := r.skipImmediates(op); err != nil {
				return nil, err
			}
			out = append(out, r.b[start:r.pos]...)
		}
		if r.err != nil {
			return nil, fmt.Errorf("constant expression: %w", r.err)
		}
	}
}

// customSection keeps custom sections, renumbering the function names of
// the "name" section (and dropping its other subsections) and dropping
// DWARF, whose code offsets the checks shift.
func (m *module) customSection(body []byte) ([]byte, error) {
	r := &reader{b: body}
	name := r.name()
	if r.err != nil {
		return nil, fmt.Errorf("custom section: %w", r.err)
	}
	switch {
	case strings.HasPrefix(name, ".debug"):
		return nil, nil
	case name != "name":
		return body, nil
	}
	out := appendName(nil, name)
	for !r.done() {
		id := r.byte()
		sub := &reader{b: r.bytes(int(r.u32()))}
		if r.err != nil {
			return nil, nil // a malformed name section is only debug data
		}
		if id != 1 {
			continue
		}
		n := sub.u32()
		names := appendU32(nil, n)
		for i := uint32(0); i < n && sub.err == nil; i++ {
			names = appendU32(names, m.renumber(sub.u32()))
			names = appendName(names, sub.name())
		}
		if sub.err != nil {
			return nil, nil
		}
		out = append(append(out, id), appendU32(nil, uint32(len(names)))...)
		out = append(out, names...)
	}
	return out, nil
}

// countImports returns how many imports of an import section are functions
// and globals (they come first in their index spaces).
func countImports(body []byte) (funcs, globals uint32, err error) {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.skipImportDesc(); kind {
		case importFunc:
			funcs++
		case importGlob:
			globals++
		case 0xFF:
			return 0, 0, fmt.Errorf("%w: import of typed reference", errNotInstrumentable)
		case importTable, importMem, importTag:
		default:
			return 0, 0, fmt.Errorf("import kind 0x%02x: %w", kind, errNotInstrumentable)
		}
	}
	if r.err != nil {
		return 0, 0, fmt.Errorf("import section: %w", r.err)
	}
	return funcs, globals, nil
}

// skipImportDesc reads an import's kind and description and returns the
// kind (0xFF for a typed reference the instrumenter does not handle).
func (r *reader) skipImportDesc() byte {
	switch kind := r.byte(); kind {
	case importFunc:
		r.u32()
		return kind
	case importTag:
		r.byte()
		r.u32()
		return kind
	case importTable:
		if !r.valType() {
			return 0xFF
		}
		r.limits()
		return kind
	case importMem:
		r.limits()
		return kind
	case importGlob:
		if !r.valType() {
			return 0xFF
		}
		r.byte()
		return kind
	default:
		return kind
	}
}

func countVec(body []byte) (uint32, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil {
		return 0, r.err
	}
	return n, nil
}

// appendToVec returns the vector body with one more count and entry added.
func appendToVec(body, entry []byte) []byte {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(nil, n+1)
	out = append(out, body[r.pos:]...)
	return append(out, entry...)
}

// code rewrites a code section: the fuel check after each body's locals and
// at the start of each loop body, and renumbered function indices.
func (m *module) code(body []byte, fuel, yield uint32) ([]byte, error) {
	var check []byte
	check = appendU32(append(check, 0x23), fuel)               // global.get $fuel
	check = append(check, 0x41, 0x01, 0x6B)                    // i32.const 1, i32.sub
	check = appendU32(append(check, 0x24), fuel)               // global.set $fuel
	check = appendU32(append(check, 0x23), fuel)               // global.get $fuel
	check = append(check, 0x45, 0x04, 0x40)                    // i32.eqz, if
	check = appendU32(append(check, 0x10), yield)              // call $yield
	check = append(appendU32(append(check, 0x24), fuel), 0x0B) // global.set $fuel, end

	r := &reader{b: body}
	n := r.u32()
	out := make([]byte, 0, len(body)+len(body)/3)
	out = appendU32(out, n)
	var fn []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("code section: body %d: %w", i, r.err)
		}
		var err error
		fn, err = m.body(fn[:0], code, check, fuel)
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

// body appends to out the function body code with the checks.
func (m *module) body(out, code, check []byte, fuel uint32) ([]byte, error) {
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
		start := r.pos
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
		case 0x10, 0x12, 0xD2: // call, return_call, ref.func
			f := r.u32()
			if r.err == nil {
				out = append(out, code[copied:start+1]...)
				out = appendU32(out, m.renumber(f))
				copied = r.pos
			}
		case 0x23, 0x24: // global.get, global.set
			if idx := r.u32(); r.err == nil && idx >= fuel {
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
