package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestDescribeBuild: the version names the release or module version, the
// VCS revision and commit time when the build has them, and says so when
// it has none, instead of printing "(devel)" alone.
func TestDescribeBuild(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261204133624-6129d508bf71"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "6129d508bf71aaaabbbbccccddddeeeeffff0000"},
		{Key: "vcs.time", Value: "2026-12-04T13:36:24Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	cases := []struct {
		release string
		bi      *debug.BuildInfo
		want    []string
		not     string
	}{
		{"", vcs, []string{"v0.0.0-20261204133624-6129d508bf71", "revision 6129d508bf71-dirty", "committed 2026-12-04T13:36:24Z", "go1.26.8"}, "(devel)"},
		{"v1.2.3", vcs, []string{"v1.2.3 (", "revision 6129d508bf71"}, "v0.0.0"},
		{"", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, []string{"devel (no VCS information", "go1.26.8"}, "(devel)"},
	}
	for _, tc := range cases {
		got := describeBuild(tc.release, tc.bi)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("describeBuild(%q) = %q, want it to contain %q", tc.release, got, w)
			}
		}
		if strings.Contains(got, tc.not) {
			t.Errorf("describeBuild(%q) = %q, should not contain %q", tc.release, got, tc.not)
		}
	}
}
