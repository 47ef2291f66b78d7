package wasm

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// tableLimits reads back the limits of each table of a module's table
// section, for tests: min, max and whether a max is declared. The section
// must be well formed.
func tableLimits(t testing.TB, wasm []byte) [][3]uint64 {
	t.Helper()
	var out [][3]uint64
	for p := wasm[8:]; len(p) > 0; {
		id := p[0]
		size, k := uleb128(p[1:])
		if k == 0 || uint64(len(p)-1-k) < size {
			break // sections after the table section are not checked
		}
		body := p[1+k : 1+k+int(size)]
		p = p[1+k+int(size):]
		if id != sectionTable {
			continue
		}
		count, k := uleb128(body)
		body = body[k:]
		for range count {
			flags := body[1]
			minimum, k := uleb128(body[2:])
			body = body[2+k:]
			var maximum, has uint64
			if flags == 1 {
				maximum, k = uleb128(body)
				body = body[k:]
				has = 1
			}
			out = append(out, [3]uint64{minimum, maximum, has})
		}
	}
	return out
}

// TestCapTables: every table ends with a maximum of at most the cap, a
// smaller declared maximum is kept, the rest of the module is untouched,
// and multi-byte LEB128 sizes are re-encoded.
func TestCapTables(t *testing.T) {
	for name, want := range map[string][][3]uint64{
		"table-cap":  {{1, 10_000, 1}},
		"table-many": {{10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}, {10_000, 10_000, 1}},
		"accept":     nil, // no table: the bytes come back as they are
	} {
		t.Run(name, func(t *testing.T) {
			wasm, err := os.ReadFile("../../testdata/" + name + ".wasm")
			if err != nil {
				t.Fatal(err)
			}
			out, n, err := capTables(wasm, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			got := tableLimits(t, out)
			if len(got) != len(want) {
				t.Fatalf("tables %v, want %v", got, want)
			}
			var total uint64
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("table %d: %v, want %v", i, got[i], want[i])
				}
				total += want[i][1]
			}
			if n != total*8 {
				t.Errorf("charged %d bytes, want %d", n, total*8)
			}
			if want == nil && !bytes.Equal(out, wasm) {
				t.Error("a module without tables was changed")
			}
		})
	}
	// A declared maximum under the cap is kept; 200 needs two LEB128 bytes.
	small := []byte("\x00asm\x01\x00\x00\x00\x04\x06\x01\x70\x01\x01\xc8\x01")
	out, n, err := capTables(small, 10_000)
	if err != nil || n != 200*8 {
		t.Fatalf("%v, %d bytes", err, n)
	}
	if got := tableLimits(t, out); len(got) != 1 || got[0] != [3]uint64{1, 200, 1} {
		t.Errorf("small table became %v", got)
	}
	for _, bad := range []struct{ wasm, want string }{
		{"\x00asm\x01\x00\x00\x00\x04\x06\x01\x70\x00\xa0\x9c\x01", "over the limit of 10000"}, // min 20,000
		{"\x00asm\x01\x00\x00\x00\x04\x04\x01\x70\x04\x01", "64-bit"},
		{"\x00asm\x01\x00\x00\x00\x04\x04\x01\x40\x00\x70", "only funcref and externref"},
		{"\x00asm\x01\x00\x00\x00\x04\x03\x02\x70\x00", "malformed"},
	} {
		if _, _, err := capTables([]byte(bad.wasm), 10_000); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("% x: %v, want %q", bad.wasm, err, bad.want)
		}
	}
}

// FuzzCapTables: untrusted bytes never panic the rewrite, and what it
// accepts comes back with every table capped.
func FuzzCapTables(f *testing.F) {
	for _, name := range []string{"table-cap", "table-many", "table-grow", "accept"} {
		b, err := os.ReadFile("../../testdata/" + name + ".wasm")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		out, _, err := capTables(wasm, 100)
		if err != nil || bytes.Equal(out, wasm) {
			return
		}
		for _, tl := range tableLimits(t, out) {
			if tl[2] != 1 || (tl[1] > 100 && tl[1] >= tl[0]) {
				t.Fatalf("table not capped: %v", tl)
			}
		}
	})
}
