package redisstore

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/oauth"
)

// testOAuthKeys checks the keys of access tokens and marks: every one is
// in its tenant's slot whatever braces a mark's key holds, a mark never
// reads as a token or the other way round, a record is compact JSON
// without the tenant and digest its key already names, and DeleteTenant
// removes exactly the tenant's tokens and marks of its own store, though
// its prefix holds glob characters that match the other store's.
func testOAuthKeys(t *testing.T, b backend) {
	s, rdb := b.store(t, Config{Prefix: "r*[x]?"})
	other, _ := b.store(t, Config{Prefix: "rqxz"})
	ctx := t.Context()
	tenant := randomTenant()
	tenants := []string{tenant, tenant + "-2", tenant[:len(tenant)-1]}
	digest := strings.Repeat("ab", 32)
	odd := []string{"}{other}", "{", "}", "at:" + digest, "with spaces:{braces}", "mark:x", ""}
	for _, st := range []*Store{s, other} {
		for _, tn := range tenants {
			tok := &oauth.Token{Tenant: tn, Digest: digest, ID: "jti", ClientID: "c", ExpiresAt: time.Now().Add(time.Hour)}
			if err := st.PutToken(ctx, tok); err != nil {
				t.Fatalf("PutToken: %v", err)
			}
			for _, key := range odd {
				if fresh, err := st.Mark(ctx, tn, key, time.Now().Add(time.Hour)); !fresh || err != nil {
					t.Fatalf("Mark(%q) = %v, %v", key, fresh, err)
				}
			}
		}
	}

	if ok, err := s.Marked(ctx, tenant, digest); ok || err != nil {
		t.Errorf("a token's digest reads as a mark: %v, %v", ok, err)
	}
	if _, err := s.Token(ctx, tenant, "x"); err == nil {
		t.Error("a mark reads as a token")
	}
	k, _ := s.tenantKeys(tenant)
	mine := func(key string) bool { return strings.HasPrefix(key, k.base) }
	var keys []string
	for _, key := range tenantKeysIn(allKeys(t, rdb), tenant) {
		if mine(key) {
			keys = append(keys, key)
		}
	}
	if len(keys) != 1+len(odd) {
		t.Errorf("the tenant has %d keys, want %d: %q", len(keys), 1+len(odd), keys)
	}
	if c, ok := rdb.(*redis.ClusterClient); ok {
		slot := c.ClusterKeySlot(ctx, k.base).Val()
		for _, key := range keys {
			if got := c.ClusterKeySlot(ctx, key).Val(); got != slot {
				t.Errorf("key %q is in slot %d, not the tenant's %d", key, got, slot)
			}
		}
	}

	raw, err := rdb.Get(ctx, k.accessToken(digest)).Result()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &fields); err != nil || strings.ContainsAny(raw, " \n") {
		t.Errorf("the record is not compact JSON: %s (%v)", raw, err)
	}
	if _, ok := fields["tenant"]; ok {
		t.Errorf("the record repeats its tenant: %s", raw)
	}
	if _, ok := fields["digest"]; ok {
		t.Errorf("the record repeats its digest: %s", raw)
	}
	if ttl := rdb.PTTL(ctx, k.accessToken(digest)).Val(); ttl < 59*time.Minute || ttl > time.Hour {
		t.Errorf("the record expires in %v, want about an hour", ttl)
	}

	var others []string
	for _, key := range allKeys(t, rdb) {
		if !mine(key) {
			others = append(others, key)
		}
	}
	before := dumps(t, rdb, others)
	if err := s.DeleteTenant(ctx, tenant); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	for _, key := range allKeys(t, rdb) {
		if mine(key) && key != k.tombstone() {
			t.Errorf("the deleted tenant keeps %q", key)
		}
	}
	if after := dumps(t, rdb, others); !maps.Equal(before, after) {
		t.Error("DeleteTenant changed keys of other tenants or of the other store")
	}
}
