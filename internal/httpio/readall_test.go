package httpio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAll: readAll reads what io.ReadAll reads, with the same error,
// whether the announced length is right, short, long or unknown, and in
// one allocation when it is right.
func TestReadAll(t *testing.T) {
	const limit = 64
	bodies := []string{"", "x", "grant_type=client_credentials", strings.Repeat("a", 63), strings.Repeat("b", 200)}
	for _, body := range bodies {
		for _, length := range []int64{int64(len(body)), -1, 0, int64(len(body)) / 2, int64(len(body)) + 7, limit, limit + 1} {
			for name, wrap := range map[string]func(io.Reader) io.Reader{
				"plain": func(r io.Reader) io.Reader { return r }, "one byte": iotest.OneByteReader,
				"data+EOF": iotest.DataErrReader, "half": iotest.HalfReader,
			} {
				got, err := readAll(wrap(strings.NewReader(body)), length, limit)
				if err != nil || string(got) != body {
					t.Errorf("%s, %d bytes announced as %d: %q, %v", name, len(body), length, got, err)
				}
			}
		}
	}
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom))
	if got, err := readAll(r, 10, limit); !errors.Is(err, boom) || string(got) != "abc" {
		t.Errorf("failing reader: %q, %v; want the data read and its error", got, err)
	}
	body := []byte("grant_type=client_credentials")
	rd := bytes.NewReader(body)
	if n := testing.AllocsPerRun(10, func() { rd.Reset(body); _, _ = readAll(rd, int64(len(body)), limit) }); n != 1 {
		t.Errorf("%v allocations for a body of the announced length, want 1", n)
	}
}
