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
)

// instr is one decoded instruction.
type instr struct {
	op    opKind
	size  int    // bytes, with the immediates
	index uint32 // the function of a call or ref.func
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
	d := decoder{p: p, n: 1}
	in := instr{}
	switch op := p[0]; {
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0f, op == 0x1a, op == 0x1b,
		op >= 0x45 && op <= 0xc4, op == 0xd1:
	case op == 0x0b:
		in.op = opEnd
	case op == 0x02, op == 0x04:
		in.op = opBlock
		d.blockType()
	case op == 0x03:
		in.op = opLoop
		d.blockType()
	case op == 0x0c, op == 0x0d, op >= 0x20 && op <= 0x26, op == 0x3f, op == 0x40:
		d.u32()
	case op == 0x10:
		in.op, in.index = opCall, d.u32()
	case op == 0xd2:
		in.op, in.index = opRefFunc, d.u32()
	case op == 0x0e: // br_table
		for n := d.u32(); n > 0 && !d.bad; n-- {
			d.u32()
		}
		d.u32()
	case op == 0x11:
		in.op = opCallIndirect
		d.u32()
		d.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		d.u32()
		d.u32()
	case op == 0x1c: // select with types
		d.skip(int(d.u32()))
	case op == 0x41:
		d.leb(5)
	case op == 0x42:
		d.leb(10)
	case op == 0x43:
		d.skip(4)
	case op == 0x44:
		d.skip(8)
	case op == 0xd0:
		d.skip(1)
	case op == 0xfc:
		d.misc()
	case op == 0xfd:
		d.simd()
	default:
		d.bad = true
	}
	if d.bad || d.n > len(p) {
		return instr{}, fmt.Errorf("%w: opcode 0x%02x", errFuel, p[0])
	}
	in.size = d.n
	return in, nil
}

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
