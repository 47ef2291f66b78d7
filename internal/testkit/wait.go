package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond every few milliseconds until it holds, and returns
// how long that took. It fails the test, naming what, when cond does not
// hold within limit: a bound on a hang, not a check of speed.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not so within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}
