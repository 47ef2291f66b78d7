package redisstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/engine/storetest"
	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/oauth"
	oauthstoretest "github.com/registrar-dev/registrar/oauth/storetest"
	"github.com/registrar-dev/registrar/redisstore"
)

// newClient returns a client of the servers at addrs; see DialForTest.
func newClient(t testing.TB, addrs ...string) redis.UniversalClient {
	t.Helper()
	return redisstore.DialForTest(t, addrs...)
}

// newStore returns a Store over rdb with the default configuration, but
// for its timeout (redisstore.SlowMachine).
func newStore(t testing.TB, rdb redis.UniversalClient) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(rdb, redisstore.ConfigForTest(redisstore.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store conformance suite against one redis-server.
// The subtests share the server: the suite gives each its own tenants.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	storetest.Run(t, func(t *testing.T) engine.Store {
		return newStore(t, newClient(t, srv.Addr))
	})
}

// TestOAuthStoreConformance runs the oauth.Store conformance suite against
// one redis-server. Its DeleteTenant subtest runs too, as a Store is an
// engine.Store as well.
func TestOAuthStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	oauthstoretest.Run(t, func(t *testing.T) oauth.Store {
		return newStore(t, newClient(t, srv.Addr))
	})
}

// auditMaxLen is the cap of the audit logs that the conformance suite runs
// against: small, so that the suite fills it.
const auditMaxLen = 20

// newAuditLog returns a Store over rdb as the suite's audit log, capped at
// auditMaxLen.
func newAuditLog(t testing.TB, rdb redis.UniversalClient) engine.AuditLog {
	t.Helper()
	s, err := redisstore.New(rdb, redisstore.Config{AuditMaxLen: auditMaxLen})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuditLogConformance runs the audit log conformance suite against one
// redis-server.
func TestAuditLogConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	storetest.RunAuditLog(t, func(t *testing.T) engine.AuditLog {
		return newAuditLog(t, newClient(t, srv.Addr))
	}, auditMaxLen)
}

// TestLimiterConformance runs the limiter conformance suite against one
// redis-server.
func TestLimiterConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	storetest.RunLimiter(t, func(t *testing.T) engine.Limiter {
		return newStore(t, newClient(t, srv.Addr))
	})
}

// TestPolicyStoreConformance runs the policy store conformance suite
// against one redis-server. Its DeleteTenant subtest runs too, as a Store
// is an engine.Store as well.
func TestPolicyStoreConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	storetest.RunPolicyStore(t, func(t *testing.T) engine.PolicyStore {
		return newStore(t, newClient(t, srv.Addr))
	})
}

// TestPolicyLimitsConformance runs the policy limits conformance suite
// against one redis-server.
func TestPolicyLimitsConformance(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	storetest.RunPolicyLimits(t, func(t *testing.T, l engine.PolicyLimits) engine.PolicyStore {
		s, err := redisstore.New(newClient(t, srv.Addr), redisstore.Config{PolicyLimits: l})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestCluster runs the conformance suites and an HTTP round trip against a
// Redis Cluster of three masters, the tenants spread over them: a script
// whose keys were in different slots would fail with CROSSSLOT, and one
// sent to the wrong node with MOVED.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) engine.Store {
			return newStore(t, newClient(t, c.Addrs...))
		})
	})
	// Before the audit log suite, whose streams the round trip's check
	// of every key's value does not read.
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, c.Addrs) })
	t.Run("AuditLog", func(t *testing.T) {
		storetest.RunAuditLog(t, func(t *testing.T) engine.AuditLog {
			return newAuditLog(t, newClient(t, c.Addrs...))
		}, auditMaxLen)
	})
	t.Run("Limiter", func(t *testing.T) {
		storetest.RunLimiter(t, func(t *testing.T) engine.Limiter {
			return newStore(t, newClient(t, c.Addrs...))
		})
	})
	// Pub/sub on a cluster: a change published through one node reaches
	// watchers subscribed through others.
	t.Run("PolicyStore", func(t *testing.T) {
		storetest.RunPolicyStore(t, func(t *testing.T) engine.PolicyStore {
			return newStore(t, newClient(t, c.Addrs...))
		})
	})
	t.Run("PolicyLimits", func(t *testing.T) {
		storetest.RunPolicyLimits(t, func(t *testing.T, l engine.PolicyLimits) engine.PolicyStore {
			s, err := redisstore.New(newClient(t, c.Addrs...), redisstore.Config{PolicyLimits: l})
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("OAuthStore", func(t *testing.T) {
		oauthstoretest.Run(t, func(t *testing.T) oauth.Store {
			return newStore(t, newClient(t, c.Addrs...))
		})
	})

	// Readiness needs every primary: each holds some tenants' keys.
	t.Run("PingEveryPrimary", func(t *testing.T) {
		s := newStore(t, newClient(t, c.Addrs...))
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping with every node up: %v", err)
		}
		c.Nodes[2].Kill()
		if err := s.Ping(t.Context()); !errors.Is(err, engine.ErrUnavailable) || !strings.Contains(err.Error(), c.Addrs[2]) {
			t.Errorf("Ping with %s down = %v, want ErrUnavailable naming it", c.Addrs[2], err)
		}
	})
}
