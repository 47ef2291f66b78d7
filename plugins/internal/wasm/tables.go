package wasm

import (
	"errors"
	"fmt"
)

// tableElementBytes is what one table element costs the host: wazero keeps
// a table as a slice of machine words. Tables are charged to the module's
// memory budget at this rate (see capTables).
const tableElementBytes = 8

// sectionTable is the id of a module's table section.
const sectionTable = 4

// capTables bounds a module's tables, which wazero, unlike memories, does
// not: table.grow appends to a Go slice without limit and cannot be
// interrupted. It refuses a module whose table declares a minimum above
// maxElems, and rewrites the maximum of every table the module defines to
// at most maxElems (a table with no maximum gets maxElems), so that
// table.grow past the cap fails (returns -1) as the Wasm specification
// says it does at a table's maximum. Only the table section changes; the
// digest stays that of the bytes uploaded.
//
// It returns the rewritten module and the bytes its tables may reach,
// which the caller charges to the memory budget. Bytes that are not a
// well-formed module are returned unchanged, for the compiler to refuse
// with its own message. A table is either a plain reference type with
// limits, or a form this host does not accept (64-bit, shared, with an
// initialiser expression).
func capTables(wasm []byte, maxElems uint32) ([]byte, uint64, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return wasm, 0, nil
	}
	var out []byte // nil until a table section is rewritten
	var total uint64
	for p, off := wasm[8:], 8; len(p) > 0; {
		id := p[0]
		size, k := uleb128(p[1:])
		if k == 0 || uint64(len(p)-1-k) < size {
			return wasm, 0, nil
		}
		end := 1 + k + int(size)
		if id == sectionTable {
			// Every table section, though a valid module has one.
			body, elems, err := capTableSection(p[1+k:end], maxElems)
			if err != nil {
				return nil, 0, err
			}
			if out == nil {
				out = append(make([]byte, 0, len(wasm)+16), wasm[:off]...)
			}
			out = append(out, sectionTable)
			out = appendULEB128(out, uint32(len(body)))
			out = append(out, body...)
			total += elems
		} else if out != nil {
			out = append(out, p[:end]...)
		}
		p = p[end:]
		off += end
	}
	if out == nil {
		return wasm, 0, nil
	}
	return out, total * tableElementBytes, nil
}

// capTableSection rewrites the body of a table section (see capTables) and
// returns it with the sum of the tables' new maximums, in elements.
func capTableSection(body []byte, maxElems uint32) ([]byte, uint64, error) {
	errShort := errors.New("table section is malformed")
	count, k := uleb128(body)
	if k == 0 {
		return nil, 0, errShort
	}
	out := appendULEB128(nil, uint32(count))
	p := body[k:]
	var total uint64
	for i := range count {
		if len(p) < 2 {
			return nil, 0, errShort
		}
		ref, flags := p[0], p[1]
		if ref != 0x70 && ref != 0x6f { // funcref, externref
			return nil, 0, fmt.Errorf("table %d: only funcref and externref tables are accepted (sdk/ABI.md, Limits)", i)
		}
		if flags > 1 {
			return nil, 0, fmt.Errorf("table %d: limits flag 0x%02x (a shared or 64-bit table) is not accepted", i, flags)
		}
		minimum, k := uleb128(p[2:])
		if k == 0 {
			return nil, 0, errShort
		}
		p = p[2+k:]
		limit := uint64(maxElems)
		if flags == 1 {
			declared, k := uleb128(p)
			if k == 0 {
				return nil, 0, errShort
			}
			p = p[k:]
			limit = min(declared, limit)
		}
		if minimum > uint64(maxElems) {
			return nil, 0, fmt.Errorf("table %d declares %d elements, over the limit of %d (max_table_elements)", i, minimum, maxElems)
		}
		// A maximum below the minimum stays as declared, for the
		// compiler to refuse.
		out = append(out, ref, 1)
		out = appendULEB128(out, uint32(minimum))
		out = appendULEB128(out, uint32(limit))
		total += max(limit, minimum)
	}
	if len(p) != 0 {
		return nil, 0, errShort
	}
	return out, total, nil
}

// appendULEB128 appends v as unsigned LEB128.
func appendULEB128(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}
