package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/redistest"
)

// The tests of this file check what the conformance suite cannot see: the
// keys themselves, batching, two stores racing on one server. Each runs
// against a single redis-server (TestScenarios) and against a three-master
// cluster (TestClusterScenarios), where a script that touched a key outside
// its slot would fail.

// backend is a Redis deployment that a test makes stores on.
type backend struct{ addrs []string }

// store returns a Store with cfg over a new client of the backend.
func (b backend) store(t *testing.T, cfg Config) (*Store, redis.UniversalClient) {
	t.Helper()
	rdb := DialForTest(t, b.addrs...)
	s, err := New(rdb, ConfigForTest(cfg))
	if err != nil {
		t.Fatal(err)
	}
	return s, rdb
}

// scenarios are the tests that run against both backends.
var scenarios = []struct {
	name string
	run  func(*testing.T, backend)
}{
	{"PrefixNamedTenants", testPrefixNamedTenants},
	{"DeleteTenantBatches", testDeleteTenantBatches},
	{"DeleteTenantResumes", testDeleteTenantResumes},
	{"QuotaTwoStores", testQuotaTwoStores},
	{"FilterIndexesFollowWrites", testFilterIndexesFollowWrites},
	{"AuditStreams", testAuditStreams},
	{"LimiterOnServerClock", testLimiterOnServerClock},
	{"DeletePolicyBatches", testDeletePolicyBatches},
	{"PolicyTenantIndexRace", testPolicyTenantIndexRace},
	{"PolicyChangesInOrder", testPolicyChangesInOrder},
	{"OAuthKeys", testOAuthKeys},
	{"SigningKeys", testSigningKeys},
}

// TestScenarios runs the scenarios, each against a redis-server of its own.
func TestScenarios(t *testing.T) {
	t.Parallel()
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, backend{[]string{redistest.Start(t, redistest.Options{}).Addr}})
		})
	}
}

// TestClusterScenarios runs the scenarios, one after the other, against a
// Redis Cluster of three masters.
func TestClusterScenarios(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, backend{c.Addrs}) })
	}
}

// randomTenant returns a tenant name no other test uses.
func randomTenant() string { return "r" + strings.ToLower(rand.Text()[:10]) }

// allKeys returns every key of the deployment: of each master, on a
// cluster.
func allKeys(t *testing.T, rdb redis.UniversalClient) []string {
	t.Helper()
	ctx := t.Context()
	var (
		mu   sync.Mutex
		keys []string
	)
	collect := func(ctx context.Context, c *redis.Client) error {
		ks, err := c.Keys(ctx, "*").Result()
		mu.Lock()
		keys = append(keys, ks...)
		mu.Unlock()
		return err
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, collect)
	case *redis.Client:
		err = collect(ctx, c)
	default:
		t.Fatalf("client of type %T", rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// tenantKeysIn returns the keys of keys that carry tenant's hash tag.
func tenantKeysIn(keys []string, tenant string) []string {
	var out []string
	for _, k := range keys {
		if strings.Contains(k, ":{"+tenant+"}:") {
			out = append(out, k)
		}
	}
	return out
}

// dumps returns the serialised value of each of the keys (DUMP), to tell
// whether any of them changed.
func dumps(t *testing.T, rdb redis.UniversalClient, keys []string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range keys {
		v, err := rdb.Dump(t.Context(), k).Result()
		if err != nil {
			t.Fatalf("DUMP %s: %v", k, err)
		}
		out[k] = v
	}
	return out
}

// policyV returns a policy version named name.
func policyV(name string) engine.PolicyVersion {
	return engine.PolicyVersion{Name: name, Digest: engine.HashToken("module " + name)}
}

// populate gives tenant a record, n clients (admitted by tokens and shaped
// by policy versions, one in ten expiring in an hour), n initial access
// tokens, three admin tokens, an audit event, a rate budget, and the
// uploaded policies of populatePolicies. The clients are created by 16
// goroutines.
func populate(t *testing.T, s *Store, tenant string, n int) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.PutTenant(ctx, &engine.TenantRecord{Name: tenant, CreatedAt: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		tok := &engine.InitialAccessToken{Tenant: tenant, ID: engine.HashToken(fmt.Sprintf("%s iat %d", tenant, i)), CreatedAt: time.Now()}
		if i%2 == 0 {
			tok.ExpiresAt = time.Now().Add(time.Hour)
		}
		if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		a := &engine.AdminToken{Tenant: tenant, ID: engine.HashToken(fmt.Sprintf("%s admin %d", tenant, i)), CreatedAt: time.Now()}
		if err := s.CreateAdminToken(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < n; i += 16 {
				c := testClient(tenant, fmt.Sprintf("c%05d", i))
				c.IssuedBy = engine.HashToken(fmt.Sprintf("%s iat %d", tenant, i%5))
				c.History = []engine.Provenance{{Event: engine.EventRegister, At: time.Now(),
					Policies: []engine.PolicyVersion{policyV(fmt.Sprintf("p%d", i%3)), policyV("all")}}}
				if i%10 == 0 {
					c.ExpiresAt = time.Now().Add(time.Hour)
				}
				if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: tenant, Type: engine.AuditTenantCreated}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Allow(ctx, tenant, "reg:tenant", engine.Rate{Events: 5, Per: time.Minute}); err != nil {
		t.Fatal(err)
	}
	populatePolicies(t, s, tenant)
}

// populatePolicies uploads two policies with two versions each, bytes that
// no record lists, and bytes of a policy without a record.
func populatePolicies(t *testing.T, s *Store, tenant string) {
	t.Helper()
	for _, name := range []string{"audit", "quota"} {
		var versions []engine.PolicyUpload
		for _, seed := range []string{"v2", "v1", "unlisted"} {
			b, d := testModule(tenant + "/" + name + "/" + seed)
			if err := s.PutPolicyBlob(t.Context(), tenant, name, d, b); err != nil {
				t.Fatal(err)
			}
			if seed != "unlisted" {
				versions = append(versions, engine.PolicyUpload{Digest: d, Size: len(b), UploadedAt: time.Now()})
			}
		}
		if _, err := s.UpdatePolicy(t.Context(), tenant, name, func(*engine.StoredPolicy) (*engine.StoredPolicy, error) {
			return &engine.StoredPolicy{Active: versions[0].Digest, Versions: versions, UpdatedAt: time.Now()}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	b, d := testModule(tenant + "/bytes-only")
	if err := s.PutPolicyBlob(t.Context(), tenant, "bytes-only", d, b); err != nil {
		t.Fatal(err)
	}
}

// leftAfterDelete are the suffixes of the keys a deleted tenant keeps: the
// tombstone, the audit log, and rate budgets, which expire on their own.
// The tenant is out of the indexes of tenants too.
func checkLeftAfterDelete(t *testing.T, rdb redis.UniversalClient, s *Store, tenant string) {
	t.Helper()
	k, _ := s.tenantKeys(tenant)
	for _, key := range tenantKeysIn(allKeys(t, rdb), tenant) {
		switch {
		case key == k.tombstone(), key == k.audit(), strings.HasPrefix(key, k.rate("")):
		default:
			t.Errorf("deleted tenant %s keeps key %s", tenant, key)
		}
	}
	for _, index := range []string{s.global().tenantIndex(), s.global().policyTenants()} {
		if err := rdb.ZScore(t.Context(), index, tenant).Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("deleted tenant %s is still in %s (%v)", tenant, index, err)
		}
	}
}

// testPrefixNamedTenants deletes tenants whose names are prefixes of one
// another's, one by one: no other tenant's key changes, every key of the
// deleted one goes but those that stay by design, and every key of a
// tenant carries its hash tag.
func testPrefixNamedTenants(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{})
	ctx := t.Context()
	base := randomTenant()
	tenants := []string{base, base + "-2", base + "2", base + "-2-" + base, base[:len(base)-1]}
	for _, tenant := range tenants {
		populate(t, s, tenant, 30)
	}
	// Every key carries one of the tenants' tags, or the tag {_}.
	for _, key := range allKeys(t, rdb) {
		ok := strings.HasPrefix(key, "registrar:{_}:")
		for _, tenant := range tenants {
			ok = ok || strings.HasPrefix(key, "registrar:{"+tenant+"}:")
		}
		if !ok {
			t.Errorf("key %q is outside every tenant's hash tag", key)
		}
	}
	for i, doomed := range tenants {
		keys := allKeys(t, rdb)
		rest := tenants[i+1:]
		var theirs []string
		for _, other := range rest {
			theirs = append(theirs, tenantKeysIn(keys, other)...)
		}
		before := dumps(t, rdb, theirs)
		if err := s.DeleteTenant(ctx, doomed); err != nil {
			t.Fatalf("DeleteTenant(%s): %v", doomed, err)
		}
		checkLeftAfterDelete(t, rdb, s, doomed)
		if after := dumps(t, rdb, theirs); !maps.Equal(after, before) {
			for k := range before {
				if after[k] != before[k] {
					t.Errorf("deleting %s changed %s", doomed, k)
				}
			}
		}
		recs, err := s.Tenants(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range recs {
			if slices.Contains(tenants, r.Name) {
				names = append(names, r.Name)
			}
		}
		if want := slices.Sorted(slices.Values(rest)); !slices.Equal(names, want) {
			t.Errorf("Tenants after deleting %s = %q, want %q", doomed, names, want)
		}
	}
}

// testDeleteTenantBatches deletes a tenant of 5000 clients and 5000
// initial access tokens: in many scripts of bounded size, leaving nothing
// behind.
func testDeleteTenantBatches(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	const clients = 5000 // and as many tokens
	start := time.Now()
	populate(t, s, tenant, clients)
	t.Logf("populated %d clients and tokens in %v", clients, time.Since(start))
	keys := tenantKeysIn(allKeys(t, rdb), tenant)
	if len(keys) < 2*clients {
		t.Fatalf("tenant holds %d keys, want more than %d", len(keys), 2*clients)
	}
	node := nodeFor(t, rdb, keys[0]) // every key of the tenant is there
	calls := func() int64 {
		info, err := node.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		return scriptCalls(info)
	}
	before := calls()
	start = time.Now()
	if err := s.DeleteTenant(ctx, tenant); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	took := time.Since(start)
	scripts := calls() - before
	records := 2*clients + 3 + 3 // clients, tokens, admin tokens, policies
	if min := int64(records / deleteBatch); scripts < min {
		t.Errorf("DeleteTenant ran %d scripts; batches of %d records need at least %d", scripts, deleteBatch, min)
	}
	t.Logf("deleted %d records and their indexes in %v, %d scripts", records, took, scripts)
	checkLeftAfterDelete(t, rdb, s, tenant)
	if page, _, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", 10); err != nil || len(page) != 0 {
		t.Errorf("Clients after DeleteTenant = %d, %v", len(page), err)
	}
}

// nodeFor returns the client of the server that holds key.
func nodeFor(t *testing.T, rdb redis.UniversalClient, key string) *redis.Client {
	t.Helper()
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		n, err := c.MasterForKey(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		return n
	case *redis.Client:
		return c
	}
	t.Fatalf("client of type %T", rdb)
	return nil
}

// scriptCalls returns the number of EVALSHA and EVAL calls in the
// server's INFO commandstats.
func scriptCalls(info string) int64 {
	var total int64
	for line := range strings.SplitSeq(info, "\n") {
		for _, cmd := range []string{"cmdstat_evalsha:calls=", "cmdstat_eval:calls="} {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), cmd); ok {
				var n int64
				fmt.Sscanf(rest, "%d", &n)
				total += n
			}
		}
	}
	return total
}

// testDeleteTenantResumes stops a deletion after its first batch, as a
// crash or a timeout would: the tenant shows Deleting and refuses creates
// and puts, and the next DeleteTenant finishes the work and leaves the
// tombstone, which a put then lifts.
func testDeleteTenantResumes(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	populate(t, s, tenant, 2*deleteBatch)
	k, _ := s.tenantKeys(tenant)
	// The first steps of DeleteTenant, then nothing.
	if err := rdb.Set(ctx, k.tombstone(), tombstoneDeleting, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := purgeTenant.Run(ctx, rdb, []string{k.tombstone()}, k.base, deleteBatch).Int64(); err != nil || n != deleteBatch {
		t.Fatalf("one purge batch = %d, %v", n, err)
	}

	rec, err := s.Tenant(ctx, tenant)
	if err != nil || !rec.Deleting {
		t.Fatalf("Tenant part way through deletion = %+v, %v; want Deleting", rec, err)
	}
	recs, err := s.Tenants(ctx)
	if err != nil || !slices.ContainsFunc(recs, func(r *engine.TenantRecord) bool { return r.Name == tenant && r.Deleting }) {
		t.Errorf("Tenants part way through deletion does not list %s as Deleting: %v", tenant, err)
	}
	checkClosed := func(when string) {
		t.Helper()
		if err := s.CreateClient(ctx, testClient(tenant, "new"), engine.CreateOptions{}); !errors.Is(err, engine.ErrNoTenant) {
			t.Errorf("%s: CreateClient: %v, want ErrNoTenant", when, err)
		}
		if err := s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: tenant, ID: "new"}); !errors.Is(err, engine.ErrNoTenant) {
			t.Errorf("%s: CreateInitialAccessToken: %v, want ErrNoTenant", when, err)
		}
		if err := s.CreateAdminToken(ctx, &engine.AdminToken{Tenant: tenant, ID: "new"}); !errors.Is(err, engine.ErrNoTenant) {
			t.Errorf("%s: CreateAdminToken: %v, want ErrNoTenant", when, err)
		}
	}
	checkClosed("part way")
	if _, err := s.PutTenant(ctx, &engine.TenantRecord{Name: tenant}, 0); !errors.Is(err, engine.ErrDeleting) {
		t.Errorf("PutTenant part way: %v, want ErrDeleting", err)
	}

	if err := s.DeleteTenant(ctx, tenant); err != nil {
		t.Fatalf("DeleteTenant, resumed: %v", err)
	}
	checkLeftAfterDelete(t, rdb, s, tenant)
	if _, err := s.Tenant(ctx, tenant); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Tenant after deletion: %v, want ErrNotFound", err)
	}
	if v := rdb.Get(ctx, k.tombstone()).Val(); v != tombstoneDeleted {
		t.Errorf("tombstone = %q, want %q", v, tombstoneDeleted)
	}
	if ttl := rdb.PTTL(ctx, k.tombstone()).Val(); ttl <= engine.TombstoneTTL-5*time.Second || ttl > engine.TombstoneTTL {
		t.Errorf("tombstone PTTL = %v, want about %v", ttl, engine.TombstoneTTL)
	}
	checkClosed("under the tombstone")

	// A put creates the tenant afresh and lifts the tombstone.
	rec, err = s.PutTenant(ctx, &engine.TenantRecord{Name: tenant}, 0)
	if err != nil || rec.Revision != 1 {
		t.Fatalf("PutTenant after deletion = %+v, %v; want revision 1", rec, err)
	}
	if n := rdb.Exists(ctx, k.tombstone()).Val(); n != 0 {
		t.Errorf("the tombstone outlives a put")
	}
	if err := s.CreateClient(ctx, testClient(tenant, "new"), engine.CreateOptions{}); err != nil {
		t.Errorf("CreateClient in the tenant created again: %v", err)
	}
}

// testQuotaTwoStores races registrations through two stores, each with a
// client of its own, against one quota: exactly as many succeed as the
// quota has room for, and the refused ones consume no token use. Expired
// clients do not count.
func testQuotaTwoStores(t *testing.T, b backend) {
	a, _ := b.store(t, Config{})
	c, _ := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	const quota, existing, expired, racers = 20, 3, 4, 40
	for i := range existing {
		if err := a.CreateClient(ctx, testClient(tenant, fmt.Sprintf("old-%d", i)), engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	soon := time.Now().Add(150 * time.Millisecond)
	for i := range expired {
		cl := testClient(tenant, fmt.Sprintf("gone-%d", i))
		cl.ExpiresAt = soon
		if err := c.CreateClient(ctx, cl, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	tok := &engine.InitialAccessToken{Tenant: tenant, ID: engine.HashToken("quota token"), CreatedAt: time.Now(), MaxUses: 1000}
	if err := a.CreateInitialAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		made, out int
		wg        sync.WaitGroup
	)
	for i := range 2 * racers {
		s := a
		if i%2 == 1 {
			s = c
		}
		wg.Go(func() {
			cl := testClient(tenant, fmt.Sprintf("new-%03d", i))
			cl.IssuedBy = tok.ID
			err := s.CreateClient(ctx, cl, engine.CreateOptions{MaxClients: quota})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case errors.Is(err, engine.ErrQuotaExceeded):
				out++
			default:
				t.Errorf("CreateClient: %v", err)
			}
		})
	}
	wg.Wait()
	if made != quota-existing || out != 2*racers-made {
		t.Errorf("%d registrations succeeded and %d were over the quota; want %d and %d", made, out, quota-existing, 2*racers-(quota-existing))
	}
	got, err := a.InitialAccessToken(ctx, tenant, tok.ID)
	if err != nil || got.Uses != int64(made) {
		t.Errorf("token uses = %d, %v; want %d, one per registration made", got.Uses, err, made)
	}
	page, _, err := c.Clients(ctx, tenant, engine.ClientFilter{}, "", 100)
	if err != nil || len(page) != quota {
		t.Errorf("Clients = %d, %v; want the quota, %d", len(page), err, quota)
	}
}

// testFilterIndexesFollowWrites checks the filter indexes themselves:
// an update moves a client from the index of its old policy version to
// that of its new one, expiry and deletion take it out of all of them,
// and an index entry left stale behind the store's back is dropped by the
// listing that meets it.
func testFilterIndexesFollowWrites(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	k, _ := s.tenantKeys(tenant)
	v1, v2 := policyV("v1"), policyV("v2")
	tokID := engine.HashToken("filter token")
	if err := s.CreateInitialAccessToken(ctx, &engine.InitialAccessToken{Tenant: tenant, ID: tokID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	members := func(suffix string) []string {
		return rdb.ZRange(ctx, k.filterIndex(suffix), 0, -1).Val()
	}
	mk := func(id string, v engine.PolicyVersion, expires time.Time) {
		c := testClient(tenant, id)
		c.IssuedBy = tokID
		c.ExpiresAt = expires
		c.History = []engine.Provenance{{Event: engine.EventRegister, At: time.Now(), Policies: []engine.PolicyVersion{v}}}
		if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", v1, time.Time{})
	mk("b", v1, time.Time{})
	mk("short", v1, time.Now().Add(100*time.Millisecond))
	if got := members(policyFilter(v1)); !slices.Equal(got, []string{"a", "b", "short"}) {
		t.Fatalf("index of v1 = %q", got)
	}
	if _, err := s.UpdateClient(ctx, tenant, "a", func(c *engine.Client) error {
		c.History = append(c.History, engine.Provenance{Event: engine.EventUpdate, At: time.Now(), Policies: []engine.PolicyVersion{v2}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := members(policyFilter(v1)), []string{"b", "short"}; !slices.Equal(got, want) {
		t.Errorf("index of v1 after updating a = %q, want %q", got, want)
	}
	if got := members(policyFilter(v2)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("index of v2 after updating a = %q", got)
	}
	if err := s.DeleteClient(ctx, tenant, "b"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // short expires
	mk("c", v2, time.Time{})           // a write prunes expired entries
	if got, want := members(policyFilter(v1)), []string(nil); !slices.Equal(got, want) {
		t.Errorf("index of v1 after deleting b and expiring short = %q, want none", got)
	}
	if got, want := members(tokenFilter(tokID)), []string{"a", "c"}; !slices.Equal(got, want) {
		t.Errorf("index of the token = %q, want %q", got, want)
	}
	if got := rdb.HKeys(ctx, k.filters()).Val(); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"a", "c"}) {
		t.Errorf("clients:filters holds %q, want a and c", got)
	}

	// A stale entry, as a hand edit would leave: listed clients are checked
	// against their records.
	rdb.ZAdd(ctx, k.filterIndex(policyFilter(v1)), redis.Z{Member: "a"}, redis.Z{Member: "c"})
	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{Policy: v1}, "", 1)
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("Clients of v1 with stale entries = %d, %q, %v; want an empty last page", len(page), next, err)
	}
	if got := members(policyFilter(v1)); len(got) != 0 {
		t.Errorf("stale entries stay in the index of v1: %q", got)
	}
}

// testAuditStreams checks the audit log's streams: exact trimming to
// Config.AuditMaxLen, stream IDs as event IDs and cursors, the key of the
// process-wide log, and what it refuses.
func testAuditStreams(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{AuditMaxLen: 5})
	ctx := t.Context()
	tenant := randomTenant()
	var ids []string
	for i := range 12 {
		id, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: tenant, Type: engine.AuditClientRegistered, ClientID: fmt.Sprint(i), Time: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if !validStreamID(id) || (len(ids) > 0 && !streamBefore(ids[len(ids)-1], id)) {
			t.Errorf("event ID %q after %q", id, ids)
		}
		ids = append(ids, id)
	}
	k, _ := s.tenantKeys(tenant)
	if n := rdb.XLen(ctx, k.audit()).Val(); n != 5 {
		t.Errorf("XLEN = %d, want the cap, 5", n)
	}
	var got []string
	for before := ""; ; {
		page, next, err := s.AuditEvents(ctx, tenant, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			got = append(got, e.ID)
			if e.Tenant != tenant || e.ClientID != fmt.Sprint(slices.Index(ids, e.ID)) {
				t.Errorf("event %s = %+v", e.ID, e)
			}
		}
		if next == "" {
			break
		}
		before = next
	}
	want := slices.Clone(ids[7:])
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("paged events = %q, want the newest five, newest first: %q", got, want)
	}
	// A cursor of a trimmed event: nothing is older.
	if page, next, err := s.AuditEvents(ctx, tenant, ids[3], 10); err != nil || len(page) != 0 || next != "" {
		t.Errorf("AuditEvents before a trimmed event = %d, %q, %v", len(page), next, err)
	}

	global := &engine.AuditEvent{Type: engine.AuditPolicyLoaded, Policy: &engine.PolicyVersion{Name: "p", Digest: "d"}}
	gid, err := s.AppendAudit(ctx, global)
	if err != nil {
		t.Fatal(err)
	}
	if global.ID != "" {
		t.Errorf("AppendAudit changed its argument: ID %q", global.ID)
	}
	if ids := rdb.XRange(ctx, "registrar:{_}:audit", gid, gid).Val(); len(ids) != 1 {
		t.Errorf("the process-wide event is not in registrar:{_}:audit")
	}
	for _, bad := range []string{"x", "1-", "-1", "1-2-3", "(1-2", "+1-2", "18446744073709551616-0", "1-18446744073709551616"} {
		if _, _, err := s.AuditEvents(ctx, tenant, bad, 10); !errors.Is(err, engine.ErrInvalidCursor) {
			t.Errorf("AuditEvents before %q: %v, want ErrInvalidCursor", bad, err)
		}
	}
	if page, _, err := s.AuditEvents(ctx, tenant, "18446744073709551615-18446744073709551615", 10); err != nil || len(page) != 5 {
		t.Errorf("AuditEvents before the largest stream ID = %d events, %v; want all 5", len(page), err)
	}
	if _, err := s.AppendAudit(ctx, &engine.AuditEvent{Tenant: "No_Such"}); err == nil {
		t.Errorf("AppendAudit of an invalid tenant name succeeded")
	}
	if page, next, err := s.AuditEvents(ctx, "No_Such", "", 10); err != nil || len(page) != 0 || next != "" {
		t.Errorf("AuditEvents of an invalid tenant name = %d, %q, %v", len(page), next, err)
	}
}

// streamBefore reports whether stream ID a is older than b.
func streamBefore(a, b string) bool {
	var am, as, bm, bs uint64
	fmt.Sscanf(a, "%d-%d", &am, &as)
	fmt.Sscanf(b, "%d-%d", &bm, &bs)
	return am < bm || am == bm && as < bs
}

// testLimiterOnServerClock checks the budgets in Redis: two stores share
// one, its key expires once the bucket is full again, tenants whose names
// are prefixes of each other's have budgets of their own, and retryAfter
// is the time until the next event fits.
func testLimiterOnServerClock(t *testing.T, b backend) {
	a, rdb := b.store(t, Config{})
	c, _ := b.store(t, Config{})
	ctx := t.Context()
	tenant := randomTenant()
	rate := engine.Rate{Events: 4, Per: time.Second} // one every 250ms
	for i := range 4 {
		s := a
		if i%2 == 1 {
			s = c
		}
		if ok, _, err := s.Allow(ctx, tenant, "ip:192.0.2.1", rate); !ok || err != nil {
			t.Fatalf("event %d of a full bucket: %t, %v", i, ok, err)
		}
	}
	ok, retry, err := c.Allow(ctx, tenant, "ip:192.0.2.1", rate)
	if ok || err != nil || retry < time.Millisecond || retry > 250*time.Millisecond {
		t.Fatalf("fifth event = %t, retry after %v, %v; want refused for at most 250ms", ok, retry, err)
	}
	if ok, _, _ := a.Allow(ctx, tenant+"-2", "ip:192.0.2.1", rate); !ok {
		t.Errorf("the budget of tenant %s-2 is shared with %s", tenant, tenant)
	}
	if ok, _, _ := a.Allow(ctx, tenant, "ip:192.0.2.2", rate); !ok {
		t.Errorf("the budget of another key is shared")
	}
	k, _ := a.tenantKeys(tenant)
	key := k.rate("ip:192.0.2.1")
	if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 0 || ttl > time.Second+5*time.Millisecond {
		t.Errorf("PTTL of the budget = %v, want at most the time to fill the bucket, 1s", ttl)
	}
	time.Sleep(retry)
	if ok, _, err := a.Allow(ctx, tenant, "ip:192.0.2.1", rate); !ok || err != nil {
		t.Errorf("after waiting retryAfter: %t, %v", ok, err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for rdb.Exists(ctx, key).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the budget's key outlives a full bucket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A tenant string that is no tenant name, as the engine never passes,
	// is kept apart in a tag of its own.
	if ok, _, err := a.Allow(ctx, tenant+"}:rate:ip:192.0.2.1", "", engine.Rate{Events: 1, Per: time.Minute}); !ok || err != nil {
		t.Errorf("Allow of a tenant string with a brace = %t, %v", ok, err)
	}
	odd := "registrar:{~" + hex.EncodeToString([]byte(tenant+"}:rate:ip:192.0.2.1")) + "}:rate:"
	if n := rdb.Exists(ctx, odd).Val(); n != 1 {
		t.Errorf("the budget of a tenant string with a brace is not %s", odd)
	}
	if _, _, err := a.Allow(ctx, tenant, "k", engine.Rate{Events: 1}); err == nil {
		t.Errorf("Allow of a rate without Per succeeded")
	}
}
