package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
)

// TestOpenFetcher: --fetch-allow-hosts is parsed (a bad entry is a usage
// error naming the flag), an allow list is logged, and the verifier of
// client assertions is built either way.
func TestOpenFetcher(t *testing.T) {
	for _, tc := range []struct {
		allow, wantErr, wantLog string
	}{
		{"", "", ""},
		{"keys.internal:8443,127.0.0.1", "", "keys.internal:8443"},
		{"http://keys.internal", "--fetch-allow-hosts", ""},
	} {
		t.Run(tc.allow, func(t *testing.T) {
			var logs testkit.Buffer
			s := &server{c: &serveConfig{fetchAllowHosts: tc.allow}, log: slog.New(slog.NewTextHandler(&logs, nil))}
			err := s.openFetcher(context.Background())
			if tc.wantErr != "" {
				if _, ok := err.(usageError); !ok || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a usage error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || s.assertions == nil || !s.assertions.FetchesKeySets() {
				t.Fatalf("openFetcher: %v, assertions %v", err, s.assertions)
			}
			got := logs.String()
			if tc.wantLog == "" && got != "" {
				t.Errorf("logged %q with no allow list", got)
			}
			if !strings.Contains(got, tc.wantLog) {
				t.Errorf("log %q, want it to name %s", got, tc.wantLog)
			}
		})
	}
}

// TestServeFetchAllowHostsFlag: the flag and its environment variable
// reach openFetcher (a bad value fails start-up naming the flag).
func TestServeFetchAllowHostsFlag(t *testing.T) {
	vars := map[string]string{"REGISTRAR_ADMIN_TOKEN": "cli-admin-token-0123456789"}
	e, _, _ := testEnv(vars)
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--fetch-allow-hosts", "http://x"}, e)
	if err == nil || !strings.Contains(err.Error(), "--fetch-allow-hosts") {
		t.Fatalf("bad flag: %v", err)
	}
	vars["REGISTRAR_FETCH_ALLOW_HOSTS"] = "a b"
	e, _, _ = testEnv(vars)
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, e)
	if err == nil || !strings.Contains(err.Error(), "--fetch-allow-hosts") {
		t.Fatalf("bad environment variable: %v", err)
	}
}
