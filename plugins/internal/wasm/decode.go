package wasm

import "fmt"

// opKind is what addFuel needs to know of an instruction.
type opKind uint8

const (
	opOther        opKind = iota
	opBlock               // block or if: opens a block that is not a loop
	opLoop                // loop
	opEnd                 // end
	opCall                // call, with index
	opCallIndirect        // call_indirect
	opRefFunc             // ref.func, with index
	opLocal               // local.get, local.set or local.tee, with index
	opGlobal              // global.get or global.set, with index
)

// instr is one decoded instruction.
type instr struct {
	op    opKind
	size  int    // bytes, with the immediates
	index uint32 // the function of a call or ref.func, the local or global
}

// decode decodes the instruction at the start of p, for the instruction
// set of wazero's default features (WebAssembly 2.0: sign extension,
// non-trapping conversions, bulk memory, reference types, multi-value,
// SIMD). Anything else is an error wrapping errFuel: the module is then
// not rewritten, and wazero's compiler has the last word on it.
func decode(p []byte) (instr, error) {
	if len(p) == 0 {
		return instr{}, fmt.Errorf("%w: truncated code", errFuel)
	}
	oc := opcodes[p[0]]
	d := decoder{p: p, n: 1}
	in := instr{op: oc.op}
	if oc.imm == nil {
		d.bad = true
	} else {
		in.index = oc.imm(&d)
	}
	if d.bad || d.n > len(p) {
		return instr{}, fmt.Errorf("%w: opcode 0x%02x", errFuel, p[0])
	}
	in.size = d.n
	return in, nil
}

// opcode is what decode knows of a one-byte opcode: its kind, and how to
// read its immediates (nil: an opcode it does not know), which returns the
// function index of a call or a ref.func.
type opcode struct {
	op  opKind
	imm func(*decoder) uint32
}

// opcodes is the table of one-byte opcodes.
var opcodes = func() (t [256]opcode) {
	set := func(op opKind, imm func(*decoder) uint32, codes ...int) {
		for _, c := range codes {
			t[c] = opcode{op, imm}
		}
	}
	none := func(*decoder) uint32 { return 0 }
	one := func(d *decoder) uint32 { return d.u32() }
	two := func(d *decoder) uint32 { d.u32(); d.u32(); return 0 }
	blockType := func(d *decoder) uint32 { d.blockType(); return 0 }
	skip := func(n int) func(*decoder) uint32 { return func(d *decoder) uint32 { d.skip(n); return 0 } }
	leb := func(n int) func(*decoder) uint32 { return func(d *decoder) uint32 { d.leb(n); return 0 } }
	set(opOther, none, 0x00, 0x01, 0x05, 0x0f, 0x1a, 0x1b, 0xd1)
	for c := 0x45; c <= 0xc4; c++ {
		set(opOther, none, c) // numeric instructions
	}
	set(opEnd, none, 0x0b)
	set(opBlock, blockType, 0x02, 0x04) // block, if
	set(opLoop, blockType, 0x03)
	set(opOther, one, 0x0c, 0x0d, 0x25, 0x26, 0x3f, 0x40)
	set(opLocal, one, 0x20, 0x21, 0x22)
	set(opGlobal, one, 0x23, 0x24)
	set(opCall, one, 0x10)
	set(opRefFunc, one, 0xd2)
	set(opCallIndirect, two, 0x11)
	for c := 0x28; c <= 0x3e; c++ {
		set(opOther, two, c) // loads and stores: memarg
	}
	set(opOther, func(d *decoder) uint32 { // br_table
		for n := d.u32(); n > 0 && !d.bad; n-- {
			d.u32()
		}
		d.u32()
		return 0
	}, 0x0e)
	set(opOther, func(d *decoder) uint32 { d.skip(int(d.u32())); return 0 }, 0x1c) // select with types
	set(opOther, leb(5), 0x41)
	set(opOther, leb(10), 0x42)
	set(opOther, skip(4), 0x43)
	set(opOther, skip(8), 0x44)
	set(opOther, skip(1), 0xd0)
	set(opOther, func(d *decoder) uint32 { d.misc(); return 0 }, 0xfc)
	set(opOther, func(d *decoder) uint32 { d.simd(); return 0 }, 0xfd)
	return t
}()

// decoder reads the immediates of one instruction: n is the bytes read.
type decoder struct {
	p   []byte
	n   int
	bad bool
}

// leb skips a LEB128 number of at most max bytes.
func (d *decoder) leb(max int) {
	for i := 0; i < max; i++ {
		if d.n >= len(d.p) {
			break
		}
		b := d.p[d.n]
		d.n++
		if b&0x80 == 0 {
			return
		}
	}
	d.bad = true
}

func (d *decoder) u32() uint32 {
	if d.n > len(d.p) {
		d.bad = true
		return 0
	}
	v, k := uleb128(d.p[d.n:])
	if k == 0 {
		d.bad = true
		return 0
	}
	d.n += k
	return uint32(v)
}

func (d *decoder) skip(n int) {
	if n < 0 || d.n+n > len(d.p) {
		d.bad = true
		return
	}
	d.n += n
}

// blockType skips a block type: empty, a value type or a type index.
func (d *decoder) blockType() {
	if d.n >= len(d.p) {
		d.bad = true
		return
	}
	switch d.p[d.n] {
	case 0x40, 0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f:
		d.n++
	default:
		d.leb(5) // s33 type index
	}
}

// misc skips the 0xfc instructions: conversions, bulk memory and tables.
func (d *decoder) misc() {
	switch sub := d.u32(); {
	case sub <= 7:
	case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17:
		d.u32()
	case sub == 8, sub == 10, sub == 12, sub == 14:
		d.u32()
		d.u32()
	default:
		d.bad = true
	}
}

// simd skips the 0xfd instructions (fixed-width SIMD).
func (d *decoder) simd() {
	switch sub := d.u32(); {
	case sub <= 11, sub == 92, sub == 93: // loads and stores: memarg
		d.u32()
		d.u32()
	case sub == 12, sub == 13: // v128.const, i8x16.shuffle
		d.skip(16)
	case sub >= 21 && sub <= 34: // extract and replace lane
		d.skip(1)
	case sub >= 84 && sub <= 91: // load and store lane: memarg, lane
		d.u32()
		d.u32()
		d.skip(1)
	case sub <= 255:
	default:
		d.bad = true
	}
}
