// Package testkit owns the harness that tests of several packages share: a
// locked log buffer, a discarding logger, a locked recorder of reported
// values, a settable clock and seeded randomness, a free loopback address,
// a server that never answers, a table resolver and a loopback-only
// recording dialer for the outbound fetch client, HTTP test servers and
// requests to them, a wait for a server to come up or a condition to hold,
// and a builder for the module's commands that removes what it built when
// the test binary ends. Redis is started by internal/redistest, not here.
//
// It imports the standard library only and is imported by tests only
// (internal/archtest keeps both rules).
package testkit
