package wasm

import (
	"context"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// Fuel: how a call is stopped at its deadline without paying for it at
// every loop iteration.
//
// wazero's close-on-context-done makes compiled code leave native code for
// Go at every loop back-edge, to see whether the module was closed: about
// 30 ns an iteration, 85% of a call of the C trusted-hosts module, which
// parses its input byte by byte. Instead, the host rewrites a module once,
// at load, so that each loop header subtracts the loop body's instruction
// count from a counter (a global of the module's own, its fuel) and calls
// a host function when the counter goes below zero. That function (yield)
// ends the call if its context is done (deadline, cancelled request, the
// module stopped) and otherwise hands out fuelBudget more. Compiled code
// therefore comes back to Go, where the scheduler and the collector can
// stop it, after at most about fuelBudget instructions plus one loop
// body, instead of after every iteration; a loop is stopped that much
// after its deadline (tens of microseconds) rather than at once. A module
// the rewriter does not understand is compiled as before, with
// close-on-context-done.

// fuelModule is the import module of the yield function. No module may
// import from it itself: checkImports refuses it as any other unknown
// module, and addFuel leaves such a module to close-on-context-done.
const fuelModule = "registrar:fuel"

// fuelBudget is the fuel handed out at each yield, in Wasm instructions:
// at about a nanosecond an instruction, compiled code comes back to Go
// every 50-100 µs, where a yield costs about 100 ns.
const fuelBudget = 1 << 16

// errFuel is a module addFuel cannot rewrite; it is then compiled with
// close-on-context-done.
var errFuel = errors.New("cannot add fuel")

// instantiateFuelModule adds the yield function of a module's calls to
// its runtime; stop is closed when the module stops its calls
// (Module.StopCalls).
func instantiateFuelModule(ctx context.Context, r wazero.Runtime, stop <-chan struct{}) error {
	_, err := r.NewHostModuleBuilder(fuelModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
			yield(ctx, stop, stack)
		}), nil, []api.ValueType{api.ValueTypeI32}).
		Export("yield").Instantiate(ctx)
	return err
}

// yield is called by fuelled code when its fuel has run out: it stops the
// call when the call's context is done or the module stopped, as wazero's
// close-on-context-done would (the same exit codes, so that describe and
// the callers see no difference), and otherwise returns the next budget.
func yield(ctx context.Context, stop <-chan struct{}, stack []uint64) {
	select {
	case <-stop:
		panic(sys.NewExitError(sys.ExitCodeContextCanceled))
	default:
	}
	if err := ctx.Err(); err != nil {
		code := uint32(sys.ExitCodeContextCanceled)
		if errors.Is(err, context.DeadlineExceeded) {
			code = sys.ExitCodeDeadlineExceeded
		}
		panic(sys.NewExitError(code))
	}
	stack[0] = fuelBudget
}

// Section ids.
const (
	secCustom   = 0
	secType     = 1
	secImport   = 2
	secFunction = 3
	secGlobal   = 6
	secExport   = 7
	secStart    = 8
	secElem     = 9
	secCode     = 10
)

// sectionRank is the position of a section in a module (data count, id
// 12, comes between element and code); custom sections have none.
func sectionRank(id byte) int {
	switch id {
	case 12:
		return 95
	case secCode:
		return 100
	case 11:
		return 110
	}
	return int(id) * 10
}

// section is one section of a module.
type section struct {
	id   byte
	body []byte
}

// fuelRewrite is the state of one rewrite.
type fuelRewrite struct {
	importedFuncs uint32 // the yield function's index; defined functions shift by one
	fuelGlobal    uint32
	yieldType     uint32
	params        []uint32 // per type, its number of parameters
	funcTypes     []uint32 // per defined function, its type
}

// addFuel returns the module with fuel (see above): a new type, the yield
// import, the fuel global, a charge at every loop header, and every
// function index at or above the import's shifted by one. The name section
// is renumbered; DWARF sections, whose code offsets no longer hold, are
// dropped. It returns errFuel (wrapped) for bytes it does not fully
// understand, which are then compiled as they are.
func addFuel(wasm []byte) ([]byte, error) {
	secs, err := splitSections(wasm)
	if err != nil {
		return nil, err
	}
	rw := &fuelRewrite{}
	if err := rw.count(secs); err != nil {
		return nil, err
	}
	out := append(make([]byte, 0, len(wasm)+len(wasm)/8+64), wasm[:8]...)
	added := map[byte]bool{}
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendULEB128(out, uint32(len(body)))
		out = append(out, body...)
	}
	// addMissing emits the new sections that must come before a section
	// of rank r and are not in the module.
	addMissing := func(r int) {
		for _, id := range []byte{secType, secImport, secGlobal} {
			if !added[id] && sectionRank(id) < r {
				added[id] = true
				emit(id, rw.section(id, nil))
			}
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			addMissing(sectionRank(s.id))
		}
		body, keep, err := rw.rewrite(s)
		if err != nil {
			return nil, err
		}
		if keep {
			added[s.id] = added[s.id] || s.id == secType || s.id == secImport || s.id == secGlobal
			emit(s.id, body)
		}
	}
	addMissing(1 << 30)
	return out, nil
}

// splitSections returns the sections of a version 1 module.
func splitSections(wasm []byte) ([]section, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" || string(wasm[4:8]) != "\x01\x00\x00\x00" {
		return nil, fmt.Errorf("%w: not a version 1 module", errFuel)
	}
	var secs []section
	for p := wasm[8:]; len(p) > 0; {
		id := p[0]
		size, k := uleb128(p[1:])
		if k == 0 || uint64(len(p)-1-k) < size {
			return nil, fmt.Errorf("%w: malformed section", errFuel)
		}
		secs = append(secs, section{id, p[1+k : 1+k+int(size)]})
		p = p[1+k+int(size):]
	}
	return secs, nil
}

// count reads what the new indices depend on: the types (and their
// parameters), the functions' types, the imported functions and the
// globals.
func (rw *fuelRewrite) count(secs []section) error {
	var nGlobals uint32
	for _, s := range secs {
		var err error
		switch s.id {
		case secType:
			rw.params, err = typeParams(s.body)
		case secFunction:
			r := &reader{p: s.body}
			for n := r.u32(); n > 0 && !r.bad; n-- {
				rw.funcTypes = append(rw.funcTypes, r.u32())
			}
			err = r.done("function")
		case secImport:
			var g uint32
			rw.importedFuncs, g, err = countImports(s.body)
			nGlobals += g
		case secGlobal:
			n, k := uleb128(s.body)
			if k == 0 {
				err = fmt.Errorf("%w: malformed global section", errFuel)
			}
			nGlobals += uint32(n)
		}
		if err != nil {
			return err
		}
	}
	rw.yieldType, rw.fuelGlobal = uint32(len(rw.params)), nGlobals
	return nil
}

// section returns a new section of the kind the rewrite adds to: the
// yield type, import or fuel global appended to body (nil: a section
// with only them).
func (rw *fuelRewrite) section(id byte, body []byte) []byte {
	var n uint64
	var rest []byte
	if body != nil {
		var k int
		n, k = uleb128(body)
		rest = body[k:]
	}
	b := appendULEB128(nil, uint32(n+1))
	b = append(b, rest...)
	switch id {
	case secType: // (func (result i32))
		b = append(b, 0x60, 0x00, 0x01, 0x7f)
	case secImport:
		b = appendName(b, fuelModule)
		b = appendName(b, "yield")
		b = append(b, 0x00)
		b = appendULEB128(b, rw.yieldType)
	case secGlobal: // (global (mut i32) (i32.const fuelBudget))
		b = append(b, 0x7f, 0x01, 0x41)
		b = appendSLEB128(b, fuelBudget)
		b = append(b, 0x0b)
	}
	return b
}

// rewrite returns the new body of a section, or keep false to drop it.
func (rw *fuelRewrite) rewrite(s section) ([]byte, bool, error) {
	switch s.id {
	case secType, secImport:
		return rw.section(s.id, s.body), true, nil
	case secGlobal:
		b, err := rw.globals(s.body)
		return b, true, err
	case secExport:
		b, err := rw.exports(s.body)
		return b, true, err
	case secStart:
		idx, k := uleb128(s.body)
		if k == 0 || k != len(s.body) {
			return nil, false, fmt.Errorf("%w: malformed start section", errFuel)
		}
		return appendULEB128(nil, rw.funcIndex(uint32(idx))), true, nil
	case secElem:
		b, err := rw.elements(s.body)
		return b, true, err
	case secCode:
		b, err := rw.code(s.body)
		return b, true, err
	case secCustom:
		return rw.custom(s.body)
	}
	return s.body, true, nil
}

// funcIndex is the new index of a function.
func (rw *fuelRewrite) funcIndex(i uint32) uint32 {
	if i >= rw.importedFuncs {
		return i + 1
	}
	return i
}

// reader reads a section body.
type reader struct {
	p   []byte
	bad bool
}

func (r *reader) u32() uint32 {
	v, k := uleb128(r.p)
	if k == 0 {
		r.bad = true
		return 0
	}
	r.p = r.p[k:]
	return uint32(v)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.p) < n {
		r.bad = true
		return nil
	}
	b := r.p[:n]
	r.p = r.p[n:]
	return b
}

func (r *reader) byte() byte {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

// limits skips a limits encoding.
func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// done is the error of a reader that should have read its whole body.
func (r *reader) done(what string) error {
	if r.bad || len(r.p) != 0 {
		return fmt.Errorf("%w: malformed %s section", errFuel, what)
	}
	return nil
}

// countImports returns the numbers of imported functions and globals, and
// refuses a module that imports from fuelModule itself.
func countImports(body []byte) (funcs, globals uint32, err error) {
	r := &reader{p: body}
	n := r.u32()
	for i := uint32(0); i < n && !r.bad; i++ {
		if r.name() == fuelModule {
			return 0, 0, fmt.Errorf("%w: imports from %s", errFuel, fuelModule)
		}
		r.name()
		switch r.byte() {
		case 0x00:
			r.u32()
			funcs++
		case 0x01:
			r.byte()
			r.limits()
		case 0x02:
			r.limits()
		case 0x03:
			r.bytes(2)
			globals++
		default:
			r.bad = true
		}
	}
	return funcs, globals, r.done("import")
}

// globals renumbers the ref.func in global initialisers and appends the
// fuel global.
func (rw *fuelRewrite) globals(body []byte) ([]byte, error) {
	r := &reader{p: body}
	n := r.u32()
	var b []byte
	for i := uint32(0); i < n && !r.bad; i++ {
		b = append(b, r.bytes(2)...) // value type, mutability
		var err error
		if b, err = rw.constExpr(r, b); err != nil {
			return nil, err
		}
	}
	if err := r.done("global"); err != nil {
		return nil, err
	}
	return rw.section(secGlobal, append(appendULEB128(nil, n), b...)), nil
}

// exports renumbers function exports.
func (rw *fuelRewrite) exports(body []byte) ([]byte, error) {
	r := &reader{p: body}
	n := r.u32()
	b := appendULEB128(nil, n)
	for i := uint32(0); i < n && !r.bad; i++ {
		b = appendName(b, r.name())
		kind, idx := r.byte(), r.u32()
		if kind == 0x00 {
			idx = rw.funcIndex(idx)
		}
		b = appendULEB128(append(b, kind), idx)
	}
	return b, r.done("export")
}

// elements renumbers the functions of element segments (all eight forms).
func (rw *fuelRewrite) elements(body []byte) ([]byte, error) {
	r := &reader{p: body}
	n := r.u32()
	b := appendULEB128(nil, n)
	var err error
	for i := uint32(0); i < n && !r.bad && err == nil; i++ {
		flags := r.u32()
		if flags > 7 {
			return nil, fmt.Errorf("%w: element segment kind %d", errFuel, flags)
		}
		b = appendULEB128(b, flags)
		if flags&3 == 2 { // an explicit table
			b = appendULEB128(b, r.u32())
		}
		if flags&1 == 0 { // active: an offset
			if b, err = rw.constExpr(r, b); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // elemkind or reftype
			b = append(b, r.byte())
		}
		count := r.u32()
		b = appendULEB128(b, count)
		for j := uint32(0); j < count && !r.bad && err == nil; j++ {
			if flags&4 == 0 {
				b = appendULEB128(b, rw.funcIndex(r.u32()))
			} else {
				b, err = rw.constExpr(r, b)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return b, r.done("element")
}

// constExpr copies a constant expression, up to and with its end,
// renumbering ref.func.
func (rw *fuelRewrite) constExpr(r *reader, b []byte) ([]byte, error) {
	for !r.bad {
		in, err := decode(r.p)
		if err != nil {
			return nil, err
		}
		if err := rw.checkIndex(in, 0); err != nil {
			return nil, err
		}
		b = rw.appendInstr(b, r.p[:in.size], in)
		r.p = r.p[in.size:]
		if in.op == opEnd {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: unterminated constant expression", errFuel)
}

// appendInstr appends an instruction, renumbering the function of a call
// or a ref.func.
func (rw *fuelRewrite) appendInstr(b, raw []byte, in instr) []byte {
	if in.op != opCall && in.op != opRefFunc {
		return append(b, raw...)
	}
	return appendULEB128(append(b, raw[0]), rw.funcIndex(in.index))
}

// code rewrites the code section: every body, with its loops charged.
func (rw *fuelRewrite) code(body []byte) ([]byte, error) {
	r := &reader{p: body}
	n := r.u32()
	b := appendULEB128(nil, n)
	for i := uint32(0); i < n && !r.bad; i++ {
		fn := r.bytes(int(r.u32()))
		if r.bad {
			break
		}
		if i >= uint32(len(rw.funcTypes)) || rw.funcTypes[i] >= uint32(len(rw.params)) {
			return nil, fmt.Errorf("%w: function %d has no type", errFuel, i)
		}
		f, err := rw.function(fn, rw.params[rw.funcTypes[i]])
		if err != nil {
			return nil, err
		}
		b = appendULEB128(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b, r.done("code")
}

// function rewrites one function body (of a function with that many
// parameters). The function gets a local of its own, its copy of the fuel,
// read from the fuel global on entry and after every call (a callee
// spends fuel too); each loop header is followed by a charge of the
// instructions its body runs per iteration (those of nested loops are
// charged by theirs), which writes the local back to the global. The
// loop thus carries the fuel in a register, not through memory.
func (rw *fuelRewrite) function(fn []byte, params uint32) ([]byte, error) {
	r := &reader{p: fn}
	groups := r.u32()
	local := uint64(params)
	for i := uint32(0); i < groups && !r.bad; i++ {
		local += uint64(r.u32())
		r.byte()
	}
	if r.bad || local >= 50_000 {
		return nil, fmt.Errorf("%w: malformed locals", errFuel)
	}
	code := r.p
	weights, err := loopWeights(code)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(fn)+len(weights)*24+16)
	b = appendULEB128(b, groups+1)
	b = append(b, fn[ulebLen(fn):len(fn)-len(r.p)]...) // the groups as they are
	b = append(b, 0x01, 0x7f)                          // (local i32)
	l := appendULEB128(nil, uint32(local))
	reload := rw.appendReload(nil, l)
	b = append(b, reload...)
	loop := 0
	for p := code; len(p) > 0; {
		in, err := decode(p)
		if err != nil {
			return nil, err
		}
		if err := rw.checkIndex(in, local); err != nil {
			return nil, err
		}
		b = rw.appendInstr(b, p[:in.size], in)
		p = p[in.size:]
		switch in.op {
		case opLoop:
			b = rw.appendCharge(b, l, weights[loop])
			loop++
		case opCall, opCallIndirect:
			b = append(b, reload...)
		}
	}
	return b, nil
}

// checkIndex refuses an instruction that names a local or global the
// module does not have (locals: the function has that many): the rewrite
// adds a local and a global, the fuel, at exactly those indices, so an
// invalid module that named them would become a valid one that sets its
// own fuel and is never stopped. Refused, the module is compiled as it
// is, and wazero's validation refuses it.
func (rw *fuelRewrite) checkIndex(in instr, locals uint64) error {
	switch {
	case in.op == opLocal && uint64(in.index) >= locals:
		return fmt.Errorf("%w: local %d of a function with %d", errFuel, in.index, locals)
	case in.op == opGlobal && in.index >= rw.fuelGlobal:
		return fmt.Errorf("%w: global %d of a module with %d", errFuel, in.index, rw.fuelGlobal)
	}
	return nil
}

// ulebLen is the length of the LEB128 number at the start of b.
func ulebLen(b []byte) int {
	_, k := uleb128(b)
	return k
}

// appendReload appends: local = fuel.
func (rw *fuelRewrite) appendReload(b, local []byte) []byte {
	b = appendULEB128(append(b, 0x23), rw.fuelGlobal) // global.get
	return append(append(b, 0x21), local...)          // local.set
}

// appendCharge appends: local -= w; fuel = local; if local < 0 { local =
// yield(); fuel = local }.
func (rw *fuelRewrite) appendCharge(b, local []byte, w uint32) []byte {
	g := appendULEB128(nil, rw.fuelGlobal)
	b = append(append(b, 0x20), local...) // local.get
	b = appendSLEB128(append(b, 0x41), int32(min(w, fuelBudget)))
	b = append(b, 0x6b)                   // i32.sub
	b = append(append(b, 0x22), local...) // local.tee
	b = append(append(b, 0x24), g...)     // global.set
	b = append(append(b, 0x20), local...)
	b = append(b, 0x41, 0x00, 0x48, 0x04, 0x40) // i32.const 0, i32.lt_s, if
	b = appendULEB128(append(b, 0x10), rw.importedFuncs)
	b = append(append(b, 0x22), local...)
	b = append(append(b, 0x24), g...)
	return append(b, 0x0b) // end
}

// typeParams returns the number of parameters of each type of a type
// section.
func typeParams(body []byte) ([]uint32, error) {
	r := &reader{p: body}
	n := r.u32()
	var params []uint32
	for i := uint32(0); i < n && !r.bad; i++ {
		if r.byte() != 0x60 {
			return nil, fmt.Errorf("%w: type %d is not a function type", errFuel, i)
		}
		np := r.u32()
		r.bytes(int(np))
		r.bytes(int(r.u32()))
		params = append(params, np)
	}
	return params, r.done("type")
}

// loopWeights returns, for each loop of a function's code in order, the
// number of instructions directly in its body (a nested loop counts as
// one, its body being its own). Instructions outside any loop run at most
// once a call and are not counted.
func loopWeights(code []byte) ([]uint32, error) {
	var weights []uint32
	stack := []int{-1} // per open block: the loop it belongs to, -1 for none
	for p := code; len(p) > 0; {
		in, err := decode(p)
		if err != nil {
			return nil, err
		}
		p = p[in.size:]
		cur := stack[len(stack)-1]
		if cur >= 0 {
			weights[cur]++
		}
		switch in.op {
		case opBlock:
			stack = append(stack, cur)
		case opLoop:
			weights = append(weights, 1)
			stack = append(stack, len(weights)-1)
		case opEnd:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 && len(p) != 0 {
				return nil, fmt.Errorf("%w: code after a function's end", errFuel)
			}
		}
	}
	if len(stack) != 0 {
		return nil, fmt.Errorf("%w: a function does not end", errFuel)
	}
	return weights, nil
}

// custom rewrites a custom section: the name section is renumbered, DWARF
// sections are dropped, others are kept.
func (rw *fuelRewrite) custom(body []byte) ([]byte, bool, error) {
	r := &reader{p: body}
	name := r.name()
	if r.bad {
		return nil, false, fmt.Errorf("%w: malformed custom section", errFuel)
	}
	switch {
	case len(name) >= 7 && name[:7] == ".debug_":
		return nil, false, nil
	case name != "name":
		return body, true, nil
	}
	b := appendName(nil, name)
	for len(r.p) > 0 && !r.bad {
		id := r.byte()
		sub := &reader{p: r.bytes(int(r.u32()))}
		var nb []byte
		switch id {
		case 1: // function names
			nb = rw.nameMap(sub, 1)
		case 2: // local names, by function
			nb = rw.nameMap(sub, 2)
		case 3: // label names: the charges add blocks, so they would be wrong
			continue
		default:
			nb = sub.p
			sub.p = nil
		}
		if sub.bad || len(sub.p) != 0 {
			return nil, false, nil // a malformed name section is dropped
		}
		b = appendULEB128(append(b, id), uint32(len(nb)))
		b = append(b, nb...)
	}
	if r.bad {
		return nil, false, nil
	}
	return b, true, nil
}

// nameMap renumbers a name map keyed by function (depth 1) or an indirect
// name map keyed by function (depth 2).
func (rw *fuelRewrite) nameMap(r *reader, depth int) []byte {
	n := r.u32()
	b := appendULEB128(nil, n)
	for i := uint32(0); i < n && !r.bad; i++ {
		b = appendULEB128(b, rw.funcIndex(r.u32()))
		if depth == 1 {
			b = appendName(b, r.name())
			continue
		}
		m := r.u32()
		b = appendULEB128(b, m)
		for j := uint32(0); j < m && !r.bad; j++ {
			b = appendULEB128(b, r.u32())
			b = appendName(b, r.name())
		}
	}
	return b
}

// appendName appends a Wasm name.
func appendName(b []byte, s string) []byte {
	return append(appendULEB128(b, uint32(len(s))), s...)
}

// appendSLEB128 appends v as signed LEB128.
func appendSLEB128(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
