// Package storetest is the conformance suite of oauth.Store: Run checks an
// implementation against the contract that the token endpoint relies on.
// memstore and redisstore run it.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/oauth"
)

// Run runs the suite against the stores that newStore makes, one fresh
// store for each subtest. The suite runs in real time: expiry subtests
// wait a fraction of a second for records to lapse and check only that
// they are absent afterwards, never how soon.
//
// When a store also implements DeleteTenant (as an engine.Store does),
// the suite checks that deleting a tenant removes its tokens and marks.
func Run(t *testing.T, newStore func(t *testing.T) oauth.Store) {
	tests := []struct {
		name string
		run  func(*testing.T, oauth.Store)
	}{
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenCopies", testTokenCopies},
		{"TokenDuplicate", testTokenDuplicate},
		{"TokenDelete", testTokenDelete},
		{"TokenExpiry", testTokenExpiry},
		{"TokenIsolation", testTokenIsolation},
		{"Mark", testMark},
		{"MarkExpiry", testMarkExpiry},
		{"MarkConcurrent", testMarkConcurrent},
		{"ClientMarked", testClientMarked},
		{"ClientTokenWriter", testClientTokenWriter},
		{"KeyRingRoundTrip", testKeyRingRoundTrip},
		{"KeyRingRevision", testKeyRingRevision},
		{"KeyRingConcurrent", testKeyRingConcurrent},
		{"DeleteTenant", testDeleteTenant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// newTenant returns a tenant name no other subtest uses, so that suites
// may share a store's backing server.
func newTenant() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// newToken returns a full record that lives for the given time.
func newToken(tenant string, life time.Duration) *oauth.Token {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &oauth.Token{
		Tenant: tenant, Digest: hex.EncodeToString(b), ID: "jti-" + hex.EncodeToString(b[:8]),
		ClientID: "client-1", ClientIssuedAt: now.Add(-time.Hour), Subject: "client-1",
		Scope: "read write", Audience: []string{"https://api.example.com"}, AuthMethod: oauth.MethodSecretBasic,
		IssuedAt: now, ExpiresAt: now.Add(life), CertThumbprint: "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2",
		Claims: map[string]json.RawMessage{"tier": json.RawMessage(`"gold"`)},
	}
}

func get(t *testing.T, s oauth.Store, tenant, digest string) (*oauth.Token, error) {
	t.Helper()
	return s.Token(context.Background(), tenant, digest)
}

func put(t *testing.T, s oauth.Store, tok *oauth.Token) {
	t.Helper()
	if err := s.PutToken(context.Background(), tok); err != nil {
		t.Fatalf("PutToken: %v", err)
	}
}

// equal compares records field by field, times by Equal.
func equal(a, b *oauth.Token) bool {
	if !a.IssuedAt.Equal(b.IssuedAt) || !a.ExpiresAt.Equal(b.ExpiresAt) || !a.ClientIssuedAt.Equal(b.ClientIssuedAt) {
		return false
	}
	x, y := *a, *b
	x.IssuedAt, x.ExpiresAt, x.ClientIssuedAt = time.Time{}, time.Time{}, time.Time{}
	y.IssuedAt, y.ExpiresAt, y.ClientIssuedAt = time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(x, y)
}

func testTokenRoundTrip(t *testing.T, s oauth.Store) {
	tok := newToken(newTenant(), time.Hour)
	put(t, s, tok)
	got, err := get(t, s, tok.Tenant, tok.Digest)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if !equal(got, tok) {
		t.Errorf("Token returned\n%+v\nwant\n%+v", got, tok)
	}
	if _, err := get(t, s, tok.Tenant, tok.Digest[:60]+"ffff"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Token of an unknown digest: %v, want ErrNotFound", err)
	}
}

func testTokenCopies(t *testing.T, s oauth.Store) {
	tok := newToken(newTenant(), time.Hour)
	want := tok.Clone()
	put(t, s, tok)
	tok.Audience[0], tok.Claims["tier"], tok.Scope = "changed", json.RawMessage(`"lead"`), "changed"
	got, err := get(t, s, want.Tenant, want.Digest)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if !equal(got, want) {
		t.Fatalf("the store kept the caller's value, not a copy: %+v", got)
	}
	got.Audience[0], got.Claims["tier"] = "changed", json.RawMessage(`1`)
	again, err := get(t, s, want.Tenant, want.Digest)
	if err != nil || !equal(again, want) {
		t.Errorf("the store handed out its own value, not a copy: %+v, %v", again, err)
	}
}

func testTokenDuplicate(t *testing.T, s oauth.Store) {
	tok := newToken(newTenant(), time.Hour)
	put(t, s, tok)
	other := tok.Clone()
	other.ClientID = "client-2"
	if err := s.PutToken(context.Background(), other); !errors.Is(err, engine.ErrAlreadyExists) {
		t.Fatalf("PutToken of a live digest: %v, want ErrAlreadyExists", err)
	}
	got, err := get(t, s, tok.Tenant, tok.Digest)
	if err != nil || got.ClientID != "client-1" {
		t.Errorf("after the refused put: %+v, %v; want the first record", got, err)
	}
}

func testTokenDelete(t *testing.T, s oauth.Store) {
	ctx := context.Background()
	tok := newToken(newTenant(), time.Hour)
	put(t, s, tok)
	if err := s.DeleteToken(ctx, tok.Tenant, tok.Digest); err != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if _, err := get(t, s, tok.Tenant, tok.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Token after DeleteToken: %v, want ErrNotFound", err)
	}
	if err := s.DeleteToken(ctx, tok.Tenant, tok.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("second DeleteToken: %v, want ErrNotFound", err)
	}
}

func testTokenExpiry(t *testing.T, s oauth.Store) {
	tenant := newTenant()
	expired := newToken(tenant, -time.Second)
	put(t, s, expired)
	if _, err := get(t, s, tenant, expired.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a record written already expired: %v, want ErrNotFound", err)
	}
	short := newToken(tenant, 300*time.Millisecond)
	put(t, s, short)
	time.Sleep(time.Until(short.ExpiresAt) + 50*time.Millisecond)
	if _, err := get(t, s, tenant, short.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a record after its ExpiresAt: %v, want ErrNotFound", err)
	}
	// Its digest is free again.
	again := short.Clone()
	again.ExpiresAt = time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	put(t, s, again)
	if err := s.DeleteToken(context.Background(), tenant, expired.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("DeleteToken of an expired record: %v, want ErrNotFound", err)
	}
}

func testTokenIsolation(t *testing.T, s oauth.Store) {
	a, b := newToken(newTenant(), time.Hour), newToken(newTenant(), time.Hour)
	b.Digest = a.Digest
	b.ClientID = "client-b"
	put(t, s, a)
	put(t, s, b)
	ga, err := get(t, s, a.Tenant, a.Digest)
	if err != nil || ga.ClientID != "client-1" {
		t.Errorf("tenant a's record: %+v, %v", ga, err)
	}
	if err := s.DeleteToken(context.Background(), b.Tenant, b.Digest); err != nil {
		t.Fatalf("DeleteToken in tenant b: %v", err)
	}
	if _, err := get(t, s, a.Tenant, a.Digest); err != nil {
		t.Errorf("deleting tenant b's record removed tenant a's: %v", err)
	}
}

func mark(t *testing.T, s oauth.Store, tenant, key string, until time.Time) bool {
	t.Helper()
	fresh, err := s.Mark(context.Background(), tenant, key, until)
	if err != nil {
		t.Fatalf("Mark(%s, %s): %v", tenant, key, err)
	}
	return fresh
}

func marked(t *testing.T, s oauth.Store, tenant, key string) bool {
	t.Helper()
	ok, err := s.Marked(context.Background(), tenant, key)
	if err != nil {
		t.Fatalf("Marked(%s, %s): %v", tenant, key, err)
	}
	return ok
}

func testMark(t *testing.T, s oauth.Store) {
	tenant, other := newTenant(), newTenant()
	until := time.Now().Add(time.Hour)
	if marked(t, s, tenant, "jti:a") {
		t.Fatal("Marked before Mark")
	}
	if !mark(t, s, tenant, "jti:a", until) {
		t.Fatal("the first Mark of a key is not fresh")
	}
	if mark(t, s, tenant, "jti:a", until) {
		t.Error("the second Mark of a key is fresh")
	}
	if !marked(t, s, tenant, "jti:a") {
		t.Error("Marked after Mark is false")
	}
	if !mark(t, s, other, "jti:a", until) || !mark(t, s, tenant, "jti:b", until) {
		t.Error("marks of another tenant or key are not independent")
	}
	if !mark(t, s, tenant, "key with spaces:{braces}", until) || !marked(t, s, tenant, "key with spaces:{braces}") {
		t.Error("a key with spaces and braces does not work")
	}
}

func testMarkExpiry(t *testing.T, s oauth.Store) {
	tenant := newTenant()
	if !mark(t, s, tenant, "past", time.Now().Add(-time.Second)) {
		t.Error("Mark with a past time is not fresh")
	}
	if marked(t, s, tenant, "past") {
		t.Error("a mark written already expired is live")
	}
	until := time.Now().Add(300 * time.Millisecond)
	mark(t, s, tenant, "short", until)
	if mark(t, s, tenant, "short", time.Now().Add(time.Hour)) {
		t.Error("a live mark was replaced")
	}
	time.Sleep(time.Until(until) + 50*time.Millisecond)
	if marked(t, s, tenant, "short") {
		t.Error("a mark is live after its time (a second Mark must not have extended it)")
	}
	if !mark(t, s, tenant, "short", time.Now().Add(time.Hour)) {
		t.Error("Mark after the old mark lapsed is not fresh")
	}
}

func testMarkConcurrent(t *testing.T, s oauth.Store) {
	tenant := newTenant()
	until := time.Now().Add(time.Hour)
	const keys, racers = 20, 8
	var mu sync.Mutex
	fresh := map[int]int{}
	var wg sync.WaitGroup
	for r := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				ok, err := s.Mark(context.Background(), tenant, "k"+string(rune('a'+(k+r)%keys)), until)
				if err != nil {
					t.Errorf("Mark: %v", err)
					return
				}
				if ok {
					mu.Lock()
					fresh[(k+r)%keys]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for k := range keys {
		if fresh[k] != 1 {
			t.Errorf("key %d was fresh for %d of %d concurrent marks, want exactly 1", k, fresh[k], racers)
		}
	}
}

func testDeleteTenant(t *testing.T, s oauth.Store) {
	d, ok := s.(interface {
		DeleteTenant(ctx context.Context, name string) error
	})
	if !ok {
		t.Skip("the store has no DeleteTenant")
	}
	tok, keep := newToken(newTenant(), time.Hour), newToken(newTenant(), time.Hour)
	put(t, s, tok)
	put(t, s, keep)
	mark(t, s, tok.Tenant, "jti:x", time.Now().Add(time.Hour))
	if err := s.PutKeyRing(context.Background(), newRing(tok.Tenant), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutKeyRing(context.Background(), newRing(keep.Tenant), 0); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteTenant(context.Background(), tok.Tenant); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	if _, err := get(t, s, tok.Tenant, tok.Digest); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("a token of a deleted tenant: %v, want ErrNotFound", err)
	}
	if marked(t, s, tok.Tenant, "jti:x") {
		t.Error("a mark of a deleted tenant is live")
	}
	if _, err := get(t, s, keep.Tenant, keep.Digest); err != nil {
		t.Errorf("deleting one tenant removed another's token: %v", err)
	}
	if _, err := s.KeyRing(context.Background(), tok.Tenant); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the key ring of a deleted tenant: %v, want ErrNotFound", err)
	}
	if _, err := s.KeyRing(context.Background(), keep.Tenant); err != nil {
		t.Errorf("deleting one tenant removed another's key ring: %v", err)
	}
}
