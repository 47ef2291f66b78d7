package main

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// buildVersion is set at link time by a release build:
// go build -ldflags "-X main.buildVersion=v1.2.3" ./cmd/registrar.
var buildVersion = ""

// version describes this build: the release version when the link set one,
// else the module version that go build stamps from the VCS (a tag or a
// pseudo-version), followed by the VCS revision and commit time and the Go
// version. A binary built without VCS information (go run, go test, a
// source tree without .git) says so instead of "(devel)" alone.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return orDevel(buildVersion) + " (no build information)"
	}
	return describeBuild(buildVersion, bi)
}

// describeBuild is version for given build information.
func describeBuild(release string, bi *debug.BuildInfo) string {
	v := release
	if v == "" {
		v = bi.Main.Version
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var details []string
	if rev := settings["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if settings["vcs.modified"] == "true" {
			rev += "-dirty"
		}
		details = append(details, "revision "+rev)
		if t := settings["vcs.time"]; t != "" {
			details = append(details, "committed "+t)
		}
	} else {
		details = append(details, "no VCS information: built by go run or from a tree without .git")
	}
	goVersion := bi.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	details = append(details, goVersion)
	return orDevel(v) + " (" + strings.Join(details, ", ") + ")"
}

func orDevel(v string) string {
	if v == "" || v == "(devel)" {
		return "devel"
	}
	return v
}
