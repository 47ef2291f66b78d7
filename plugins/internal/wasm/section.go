package wasm

import "fmt"

// CustomSection returns the payload of the custom section of that name in
// a module's bytes, if there is one. Bytes that are not a module, or whose
// sections run past the end, have none: compiling them says what is wrong.
// Two sections of the name are an error.
func CustomSection(wasm []byte, name string) ([]byte, error) {
	if len(wasm) < 8 || string(wasm[:4]) != "\x00asm" {
		return nil, nil
	}
	var found []byte
	n := 0
	for p := wasm[8:]; len(p) > 0; {
		id := p[0]
		size, k := uleb128(p[1:])
		if k == 0 || uint64(len(p)-1-k) < size {
			return nil, nil
		}
		body := p[1+k : 1+k+int(size)]
		p = p[1+k+int(size):]
		if id != 0 {
			continue
		}
		nameLen, k := uleb128(body)
		if k == 0 || uint64(len(body)-k) < nameLen {
			return nil, nil
		}
		if string(body[k:k+int(nameLen)]) == name {
			found = body[k+int(nameLen):]
			n++
		}
	}
	if n > 1 {
		return nil, fmt.Errorf("%d custom sections named %s; at most one", n, name)
	}
	return found, nil
}

// uleb128 decodes an unsigned LEB128 number of at most 32 bits and returns
// it with its length, or a length of 0 if b does not start with one.
func uleb128(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 5; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if v > 0xffffffff {
				return 0, 0
			}
			return v, i + 1
		}
	}
	return 0, 0
}
