package plugins_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

func loadLogging(t *testing.T, name string, limits plugins.Limits, buf *testkit.Buffer, clock *testkit.Clock) *plugins.Module {
	t.Helper()
	m, err := plugins.Load(context.Background(), fixture(t, name), plugins.LoadOptions{Name: name, Limits: limits, Logger: slogTo(buf), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

// TestLogFloodCapped: a module logging 10,000 lines of control characters
// in one call writes no more than about twice MaxLogBytes to the host's log
// (before: 64 lines of 6 KB each, 383 KB), with one line saying the rest
// was dropped, and no control character.
func TestLogFloodCapped(t *testing.T) {
	var buf testkit.Buffer
	m := loadLogging(t, "log-flood", plugins.Limits{Timeout: time.Minute}, &buf, testkit.NewClock(time.Unix(1e9, 0)))
	if _, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`)); err != nil {
		t.Fatal(err)
	}
	logged := buf.String()
	t.Logf("one call logged %d bytes", len(logged))
	if len(logged) > 2*16<<10 {
		t.Errorf("one call logged %d bytes, over twice the 16 KiB cap", len(logged))
	}
	if n := strings.Count(logged, "further lines of this call dropped"); n != 1 {
		t.Errorf("%d summary lines, want 1", n)
	}
	if strings.Contains(logged, `\u0001`) {
		t.Error("control characters reached the log")
	}
	if n := strings.Count(logged, `"line":"????`); n < 10 {
		t.Errorf("%d lines logged before the cap, want the first ones kept", n)
	}
}

// TestLogRatePerModule: calls of one module share a budget per second;
// past it their lines are dropped with one line saying so, and the budget
// refills with time.
func TestLogRatePerModule(t *testing.T) {
	var buf testkit.Buffer
	clock := testkit.NewClock(time.Unix(1e9, 0))
	m := loadLogging(t, "log-flood", plugins.Limits{Timeout: time.Minute, MaxLogBytesPerSecond: 32 << 10}, &buf, clock)
	lines := func() int { return strings.Count(buf.String(), `"msg":"policy module log",`) }
	for range 10 {
		if _, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	// A call logs its 16 KiB: 14 lines of 1,124 bytes (1,024 and 100 for
	// the record) and a 15th cut to fit; two calls spend the 32 KiB.
	if n := lines(); n != 30 {
		t.Errorf("%d lines in ten calls within one instant, want 30 (32 KiB)", n)
	}
	if n := strings.Count(buf.String(), "over the module's budget per second"); n != 1 {
		t.Errorf("%d rate summary lines, want 1", n)
	}
	before := lines()
	clock.Advance(time.Second)
	if _, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`)); err != nil {
		t.Fatal(err)
	}
	if lines() == before {
		t.Error("no line logged after the budget refilled")
	}
}

// TestLogUTF8AndBadPointer: a line over 1,024 bytes is cut before a UTF-8
// sequence that does not fit whole (before: the half sequence became "?"),
// through registrar.log and stdout alike; a log call with a range outside
// the module's memory logs a warning that says so, and the call goes on.
func TestLogUTF8AndBadPointer(t *testing.T) {
	var buf testkit.Buffer
	m := loadLogging(t, "log-utf8", plugins.Limits{Timeout: time.Minute}, &buf, testkit.NewClock(time.Unix(1e9, 0)))
	out, err := m.Call(context.Background(), engine.HookPolicy, policyInput(`{}`))
	if err != nil || string(out) != `{"metadata":{}}` {
		t.Fatalf("%s %v", out, err)
	}
	logged := buf.String()
	for _, want := range []string{
		`"line":"` + strings.Repeat("a", 1023) + `"`,
		`"line":"` + strings.Repeat("b", 1023) + `"`,
		`registrar.log(2, 4294967040, 16): that range is outside the module's memory; nothing logged`,
	} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %.60q...:\n%.2000s", want, logged)
		}
	}
}
