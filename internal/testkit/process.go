package testkit

import (
	"net/http"
	"testing"
	"time"
)

// WaitReady polls url with GET until it answers, as a server started by
// the test comes up. It fails the test when exited is closed first (the
// server stopped) or when timeout passes, with log() in the message.
func WaitReady(t testing.TB, url string, exited <-chan struct{}, timeout time.Duration, log func() string) {
	t.Helper()
	WaitReadyWith(t, http.DefaultClient, url, exited, timeout, log)
}

// WaitReadyWith is WaitReady with the client given, for a server that
// needs one of its own (HTTPS with a test CA).
func WaitReadyWith(t testing.TB, client *http.Client, url string, exited <-chan struct{}, timeout time.Duration, log func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			t.Fatalf("exited before %s answered:\n%s", url, log())
		default:
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within %v:\n%s", url, timeout, log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
