package memstore

import (
	"fmt"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

func TestAuditMaxLenDefault(t *testing.T) {
	for _, tc := range []struct{ set, want int }{
		{0, DefaultAuditMaxLen},
		{-5, DefaultAuditMaxLen},
		{1, 1},
		{50, 50},
	} {
		if got := New(Config{AuditMaxLen: tc.set}).audit.maxLen; got != tc.want {
			t.Errorf("AuditMaxLen %d: the log keeps %d events, want %d", tc.set, got, tc.want)
		}
	}
}

// TestAuditMemoryBounded appends many events to one tenant: the log never
// holds more than twice its cap.
func TestAuditMemoryBounded(t *testing.T) {
	ctx := t.Context()
	s := New(Config{AuditMaxLen: 10})
	for i := range 1000 {
		if _, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: "t", Detail: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if n := len(s.audit.logs["t"].events); n > 20 {
			t.Fatalf("after %d appends the log holds %d events", i+1, n)
		}
	}
	events, next, err := s.AuditEvents(ctx, "t", "", 100)
	if err != nil || len(events) != 10 || next != "" || events[0].Detail != "999" || events[9].Detail != "990" {
		t.Errorf("AuditEvents = %d events, next %q, %v; want the newest 10", len(events), next, err)
	}
}

func TestAuditEventsBadArguments(t *testing.T) {
	ctx := t.Context()
	s := New(Config{})
	if _, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: "t"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		before string
		limit  int
	}{
		{"", 0},
		{"", -1},
		{"x", 10},
		{"-1", 10},
		{"1.5", 10},
	} {
		if _, _, err := s.AuditEvents(ctx, "t", tc.before, tc.limit); err == nil {
			t.Errorf("AuditEvents(before %q, limit %d): no error", tc.before, tc.limit)
		}
	}
	// IDs the log never gave, or of events it dropped, are fine cursors.
	for _, before := range []string{"0", "1", "99"} {
		events, _, err := s.AuditEvents(ctx, "t", before, 10)
		if want := map[string]int{"0": 0, "1": 0, "99": 1}[before]; err != nil || len(events) != want {
			t.Errorf("AuditEvents(before %q) = %d events, %v; want %d", before, len(events), err, want)
		}
	}
}
