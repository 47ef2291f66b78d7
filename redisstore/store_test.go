package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
)

func TestNewRefusesBadConfig(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer rdb.Close()
	unbounded := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer unbounded.Close()
	unboundedCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer unboundedCluster.Close()
	for _, tc := range []struct {
		name string
		rdb  redis.UniversalClient
		cfg  Config
		want string
	}{
		{"no client", nil, Config{}, "client"},
		{"no context timeouts", unbounded, Config{}, "ContextTimeoutEnabled"},
		{"no context timeouts in cluster", unboundedCluster, Config{}, "ContextTimeoutEnabled"},
		{"brace in prefix", rdb, Config{Prefix: "reg{x}"}, "Prefix"},
		{"space in prefix", rdb, Config{Prefix: "my reg"}, "Prefix"},
		{"negative timeout", rdb, Config{Timeout: -time.Second}, "Timeout"},
	} {
		if _, err := New(tc.rdb, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: New = %v, want an error about %s", tc.name, err, tc.want)
		}
	}
	s, err := New(rdb, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s.prefix != DefaultPrefix || s.timeout != DefaultTimeout {
		t.Errorf("defaults: prefix %q, timeout %v", s.prefix, s.timeout)
	}
}

func TestExpireAt(t *testing.T) {
	base := time.UnixMilli(1_800_000_000_000)
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Time{}, 0},
		{base, 1_800_000_000_000},
		{base.Add(time.Nanosecond), 1_800_000_000_001}, // never early
		{base.Add(999 * time.Microsecond), 1_800_000_000_001},
		{time.Unix(0, 0), 1}, // the epoch is a time, and long past
		{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), 1},
	} {
		if got := expireAt(tc.t); got != tc.want {
			t.Errorf("expireAt(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

// redisReply is an error reply of the server, as go-redis reports it.
type redisReply string

func (e redisReply) Error() string { return string(e) }
func (redisReply) RedisError()     {}

func TestFailWrapsUnavailable(t *testing.T) {
	s := &Store{}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name        string
		ctx         context.Context
		err         error
		unavailable bool
	}{
		{"refused", context.Background(), &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{"reset", context.Background(), io.EOF, true},
		{"deadline", context.Background(), context.DeadlineExceeded, true},
		{"pool timeout", context.Background(), redis.ErrPoolTimeout, true},
		{"closed client", context.Background(), redis.ErrClosed, true},
		{"loading", context.Background(), redisReply("LOADING Redis is loading the dataset in memory"), true},
		{"failover", context.Background(), redisReply("READONLY You can't write against a read only replica."), true},
		{"cluster down", context.Background(), redisReply("CLUSTERDOWN The cluster is down"), true},
		{"out of memory", context.Background(), redisReply("OOM command not allowed when used memory > 'maxmemory'."), true},
		{"wrong type", context.Background(), redisReply("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{"script error", context.Background(), redisReply("ERR user_script:1: Script attempted to access nonexistent global variable"), false},
		{"caller gone", canceled, context.Canceled, false},
	} {
		err := s.fail(tc.ctx, "op", tc.err)
		if got := errors.Is(err, engine.ErrUnavailable); got != tc.unavailable {
			t.Errorf("%s: fail(%v) = %v: unavailable %t, want %t", tc.name, tc.err, err, got, tc.unavailable)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: fail(%v) = %v, which does not wrap the cause", tc.name, tc.err, err)
		}
	}
}

// newTestStore returns a Store over a fresh redis-server, the client, and a
// tenant name no other test uses.
func newTestStore(t *testing.T) (*Store, redis.UniversalClient, string) {
	t.Helper()
	srv := redistest.Start(t, redistest.Options{})
	rdb := DialForTest(t, srv.Addr)
	s, err := New(rdb, ConfigForTest(Config{}))
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb, "t-" + strings.ToLower(rand.Text()[:10])
}

func testClient(tenant, id string) *engine.Client {
	now := time.Now().Round(0)
	return &engine.Client{
		Tenant: tenant, ID: id, IssuedAt: now, UpdatedAt: now,
		Metadata:              engine.Metadata{RedirectURIs: []string{"https://app.example/cb"}},
		SecretHash:            engine.HashToken("secret"),
		RegistrationTokenHash: engine.HashToken("rat"),
	}
}

// TestKeySchema checks the keys, types and expiries that the package
// documentation promises, for every kind of record.
func TestKeySchema(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	expires := time.Now().Add(time.Hour).Round(0)
	tokID := engine.HashToken("the-token")
	tok := &engine.InitialAccessToken{Tenant: tenant, ID: tokID, CreatedAt: time.Now(), ExpiresAt: expires, MaxUses: 5}
	if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	audit := engine.PolicyVersion{Name: "audit", Digest: engine.HashToken("audit module")}
	c := testClient(tenant, "expiring")
	c.ExpiresAt = expires
	c.IssuedBy = tokID
	c.History = []engine.Provenance{{Event: engine.EventRegister, At: time.Now(), Token: tokID, Policies: []engine.PolicyVersion{audit}}}
	if err := s.CreateClient(ctx, c, engine.CreateOptions{MaxClients: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx, testClient(tenant, "forever"), engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	adminID := engine.HashToken("admin-token")
	if err := s.CreateAdminToken(ctx, &engine.AdminToken{Tenant: tenant, ID: adminID, CreatedAt: time.Now(), ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutTenant(ctx, &engine.TenantRecord{Name: tenant}, 0); err != nil {
		t.Fatal(err)
	}
	for _, e := range []*engine.AuditEvent{{Tenant: tenant, Type: engine.AuditTenantCreated}, {Type: engine.AuditPolicyLoaded}} {
		if _, err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if ok, _, err := s.Allow(ctx, tenant, "reg:ip:192.0.2.1", engine.Rate{Events: 10, Per: time.Minute}); !ok || err != nil {
		t.Fatalf("Allow = %t, %v", ok, err)
	}

	tag := "registrar:{" + tenant + "}:"
	want := map[string]string{
		tag + "client:expiring":                  "string",
		tag + "client:forever":                   "string",
		tag + "clients":                          "zset",
		tag + "clients:expiry":                   "zset",
		tag + "clients:filters":                  "hash",
		tag + "clients:token:" + tokID:           "zset",
		tag + "clients:policy:" + audit.String(): "zset",
		tag + "iat:" + tokID:                     "hash",
		tag + "iats":                             "zset",
		tag + "iats:expiry":                      "zset",
		tag + "admin:" + adminID:                 "string",
		tag + "admins":                           "zset",
		tag + "tenant":                           "string",
		tag + "audit":                            "stream",
		tag + "rate:reg:ip:192.0.2.1":            "string",
		"registrar:{_}:tenants":                  "zset",
		"registrar:{_}:tenants:seq":              "string",
		"registrar:{_}:tenants:changes":          "zset",
		"registrar:{_}:audit":                    "stream",
	}
	keys := wantKeyTypes(t, ctx, rdb, want)
	for _, k := range []string{tag + "client:expiring", tag + "iat:" + tokID, tag + "admin:" + adminID} {
		// PTTL, not PEXPIRETIME, which Redis 6 lacks.
		ttl, err := rdb.PTTL(ctx, k).Result()
		if want := time.Until(expires); err != nil || ttl > want+time.Second || ttl < want-5*time.Second {
			t.Errorf("PTTL %s = %v, %v; want about %v", k, ttl, err, want)
		}
	}
	if ttl := rdb.PTTL(ctx, tag+"rate:reg:ip:192.0.2.1").Val(); ttl <= 0 || ttl > 6*time.Second+time.Millisecond {
		t.Errorf("PTTL of the rate budget = %v, want the time to refill one event of 10/m, 6s", ttl)
	}
	for k := range want {
		if strings.Contains(k, ":rate:") || k == tag+"client:expiring" || k == tag+"iat:"+tokID || k == tag+"admin:"+adminID {
			continue
		}
		if ttl := rdb.PTTL(ctx, k).Val(); ttl != -1 {
			t.Errorf("PTTL %s = %v, want none", k, ttl)
		}
	}
	for _, idx := range []string{"clients", "clients:token:" + tokID, "clients:policy:" + audit.String()} {
		wantIDs := []string{"expiring"}
		if idx == "clients" {
			wantIDs = []string{"expiring", "forever"}
		}
		if ids := rdb.ZRange(ctx, tag+idx, 0, -1).Val(); !slices.Equal(ids, wantIDs) {
			t.Errorf("index %s = %q, want %q", idx, ids, wantIDs)
		}
	}
	if f := rdb.HKeys(ctx, tag+"clients:filters").Val(); !slices.Equal(f, []string{"expiring"}) {
		t.Errorf("clients:filters fields = %q", f)
	}
	for _, idx := range []string{"clients:expiry", "iats:expiry"} {
		id := "expiring"
		if idx == "iats:expiry" {
			id = tokID
		}
		exp := rdb.ZRangeWithScores(ctx, tag+idx, 0, -1).Val()
		if len(exp) != 1 || exp[0].Member != id || int64(exp[0].Score) != expireAt(expires) {
			t.Errorf("%s = %v", idx, exp)
		}
	}
	tokHash := rdb.HGetAll(ctx, tag+"iat:"+tokID).Val()
	if tokHash["uses"] != "1" || tokHash["max_uses"] != "5" || tokHash["record"] == "" || len(tokHash) != 3 {
		t.Errorf("token hash = %v", tokHash)
	}
	if got := rdb.ZRange(ctx, "registrar:{_}:tenants", 0, -1).Val(); !slices.Equal(got, []string{tenant}) {
		t.Errorf("tenant index = %q", got)
	}
	// No key holds a bearer token: the only 64-hex names are the digests.
	for _, k := range keys {
		if strings.Contains(k, "the-token") || strings.Contains(k, "admin-token") {
			t.Errorf("key %q names a token in the clear", k)
		}
	}
}

// TestRetriedCreate runs each create script twice, as go-redis does when
// the connection drops after the server applied it: the second run must not
// consume a second use, nor report a conflict.
func TestRetriedCreate(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	k, _ := s.tenantKeys(tenant)
	tokID := engine.HashToken("token")
	tok := &engine.InitialAccessToken{Tenant: tenant, ID: tokID, CreatedAt: time.Now(), MaxUses: 1}
	for range 2 {
		if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
			t.Fatalf("CreateInitialAccessToken, run again: %v", err)
		}
	}
	c := testClient(tenant, "retried")
	c.IssuedBy = tokID
	for range 2 {
		if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
			t.Fatalf("CreateClient, run again: %v", err)
		}
	}
	if uses := rdb.HGet(ctx, k.token(tokID), "uses").Val(); uses != "1" {
		t.Errorf("uses after a retried registration = %s, want 1", uses)
	}
	// A different registration is still refused: the token is used up.
	other := testClient(tenant, "retried")
	other.IssuedBy = tokID
	other.Metadata.ClientName = "other"
	if err := s.CreateClient(ctx, other, engine.CreateOptions{Replace: true}); !errors.Is(err, engine.ErrTokenExhausted) {
		t.Errorf("another registration with the used-up token: %v", err)
	}
}

// TestIndexPruned checks that clients that expire without being listed do
// not stay in the indexes: later writes drop their entries.
func TestIndexPruned(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	k, _ := s.tenantKeys(tenant)
	const n = 40
	soon := time.Now().Add(2 * time.Second)
	for i := range n {
		c := testClient(tenant, fmt.Sprintf("short-%02d", i))
		c.ExpiresAt = soon
		if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// On a machine slow enough that the writes outlast the expiry, the
	// first clients are already gone: the index may hold fewer.
	if got := rdb.ZCard(ctx, k.clients()).Val(); got != n && time.Now().Before(soon) {
		t.Fatalf("index holds %d entries, want %d", got, n)
	}
	for rdb.Exists(ctx, k.client("short-00")).Val() == 1 {
		time.Sleep(20 * time.Millisecond)
	}
	writes, _ := strconv.Atoi(pruneOnWrite)
	for i := range (n + writes - 1) / writes {
		if err := s.CreateClient(ctx, testClient(tenant, fmt.Sprintf("long-%02d", i)), engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	live := int64((n + writes - 1) / writes)
	if got := rdb.ZCard(ctx, k.clients()).Val(); got != live {
		t.Errorf("index holds %d entries after the writes, want the %d live clients", got, live)
	}
	if got := rdb.ZCard(ctx, k.expiry()).Val(); got != 0 {
		t.Errorf("expiry index holds %d entries, want 0", got)
	}
}

// TestListingDropsGhosts removes records behind the store's back (as an
// operator's DEL or an eviction would): the listing skips their IDs and
// drops them from the index.
func TestListingDropsGhosts(t *testing.T) {
	s, rdb, tenant := newTestStore(t)
	ctx := t.Context()
	k, _ := s.tenantKeys(tenant)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		if err := s.CreateClient(ctx, testClient(tenant, id), engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rdb.Del(ctx, k.client("b"), k.client("c"), k.client("d"))
	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", 1)
	if err != nil || len(page) != 1 || page[0].ID != "a" || next != "a" {
		t.Fatalf("first page = %d clients, next %q, %v", len(page), next, err)
	}
	page, next, err = s.Clients(ctx, tenant, engine.ClientFilter{}, next, 1)
	if err != nil || len(page) != 1 || page[0].ID != "e" || next != "" {
		t.Fatalf("second page = %d clients, next %q, %v; want e and no cursor", len(page), next, err)
	}
	if ids := rdb.ZRange(ctx, k.clients(), 0, -1).Val(); !slices.Equal(ids, []string{"a", "e"}) {
		t.Errorf("index after the listing = %q, want [a e]", ids)
	}
}

// TestInvalidTenant: a name that cannot be a tenant's has no records, and
// cannot be written: it could break out of its hash tag.
func TestInvalidTenant(t *testing.T) {
	s, rdb, _ := newTestStore(t)
	ctx := t.Context()
	for _, tenant := range []string{"", "a}b", "A", "a:b", strings.Repeat("a", 64)} {
		if _, err := s.Client(ctx, tenant, "x"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Client(%q): %v", tenant, err)
		}
		if _, err := s.InitialAccessToken(ctx, tenant, "x"); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("InitialAccessToken(%q): %v", tenant, err)
		}
		if page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", 10); err != nil || len(page) != 0 || next != "" {
			t.Errorf("Clients(%q) = %d, %q, %v", tenant, len(page), next, err)
		}
		if err := s.CreateClient(ctx, testClient(tenant, "x"), engine.CreateOptions{}); err == nil {
			t.Errorf("CreateClient(%q) succeeded", tenant)
		}
		if err := s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: tenant, ID: "x"}); err == nil {
			t.Errorf("CreateInitialAccessToken(%q) succeeded", tenant)
		}
	}
	if n := rdb.DBSize(ctx).Val(); n != 0 {
		t.Errorf("%d keys written", n)
	}
}

// TestPrefix: two stores with different prefixes share a server without
// seeing each other's records.
func TestPrefix(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := DialForTest(t, srv.Addr)
	a, err := New(rdb, Config{Prefix: "blue"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(rdb, Config{Prefix: "green"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := a.CreateClient(ctx, testClient("acme", "x"), engine.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client(ctx, "acme", "x"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the green store sees the blue one's client: %v", err)
	}
	if err := b.CreateClient(ctx, testClient("acme", "x"), engine.CreateOptions{}); err != nil {
		t.Errorf("the green store cannot create its own client x: %v", err)
	}
	for _, key := range rdb.Keys(ctx, "*").Val() {
		if !strings.HasPrefix(key, "blue:{acme}:") && !strings.HasPrefix(key, "green:{acme}:") {
			t.Errorf("key %q", key)
		}
	}
}

// wantKeyTypes checks that the keys in rdb are those of want, each of the
// type it names, and returns them sorted.
func wantKeyTypes(t *testing.T, ctx context.Context, rdb redis.UniversalClient, want map[string]string) []string {
	t.Helper()
	stored, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(stored)
	if wantKeys := slices.Sorted(maps.Keys(want)); !slices.Equal(stored, wantKeys) {
		t.Fatalf("keys = %q, want %q", stored, wantKeys)
	}
	for k, typ := range want {
		if got := rdb.Type(ctx, k).Val(); got != typ {
			t.Errorf("TYPE %s = %s, want %s", k, got, typ)
		}
	}
	return stored
}
