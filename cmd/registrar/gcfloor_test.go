package main

import (
	"context"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{
		"0": 0, "4096": 4096, "512B": 512, "8KiB": 8 << 10, "64MiB": 64 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40,
	} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "64 MiB", "64mb", "1.5GiB", "18446744073709551615KiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", in, got)
		}
	}
}

// TestGCHeapFloorFlag: a bad --gc-heap-floor is a usage error that names it.
func TestGCHeapFloorFlag(t *testing.T) {
	for _, v := range []string{"lots", "2TiB"} {
		e, _, _ := testEnv(nil)
		err := run(context.Background(), []string{"serve", "--gc-heap-floor", v}, e)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "--gc-heap-floor") {
			t.Errorf("--gc-heap-floor %s: %v", v, err)
		}
	}
}
