// Package storetest owns the conformance suite of [engine.Store]: [Run]
// checks that an implementation keeps the contract the engine relies on.
//
// Every implementation runs the same suite from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store { return memstore.New(memstore.Config{}) })
//	}
//
// The suite uses real time only, so that it can drive stores whose clock it
// does not control (a Redis server expires keys on its own clock): records
// expire a fraction of a second after they are written and the suite polls,
// with a generous deadline, for them to disappear. Each subtest asks for a
// fresh store and uses tenant names of its own, drawn at random, so stores
// that share a backend between subtests or between runs do not see each
// other's data. The concurrency tests run 50 goroutines, 10 with -short.
//
// Where the documentation of engine.Store is silent, the suite decides:
//
//   - A store gives back what it was given: every field, times to the
//     nanosecond (compared with Equal, so the location may change), and
//     values that encode to the same JSON.
//   - CreateClient never changes its argument; with replace it creates an
//     absent client, and replaces the whole record, expiry included.
//   - A create refused with ErrAlreadyExists consumes no token use.
//   - UpdateClient stores a whole new record, not a merge; it does not call
//     fn for an absent client; a result whose expiry has passed is absent.
//   - Writes of records whose expiry has already passed succeed, and the
//     records are absent at once.
//   - Clients orders IDs byte by byte (as Go compares strings), starts after
//     the after ID whether or not a client has it, and returns an empty next
//     cursor when no live client follows the page, even if expired ones do.
//     Clients of an unknown tenant is an empty page, not ErrNotFound.
package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Run runs the conformance suite against the stores that newStore makes,
// one fresh store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) engine.Store) {
	tests := []struct {
		name string
		run  func(*testing.T, engine.Store)
	}{
		{"Ping", testPing},
		{"ClientCRUD", testClientCRUD},
		{"ClientCopies", testClientCopies},
		{"ClientNotFound", testClientNotFound},
		{"ClientAlreadyExists", testClientAlreadyExists},
		{"ClientIDs", testClientIDs},
		{"TenantIsolation", testTenantIsolation},
		{"UpdateClient", testUpdateClient},
		{"UpdateClientError", testUpdateClientError},
		{"InitialAccessTokenCRUD", testTokenCRUD},
		{"InitialAccessTokenCopies", testTokenCopies},
		{"TokenConsumption", testTokenConsumption},
		{"TokenConsumptionAtomic", testTokenConsumptionAtomic},
		{"ClientsPagination", testClientsPagination},
		{"ClientsCursor", testClientsCursor},
		{"AlreadyExpired", testAlreadyExpired},
		{"Expiry", testExpiry},
		{"ClientsSkipExpired", testClientsSkipExpired},
		{"ConcurrentTokenUses", testConcurrentTokenUses},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentDelete", testConcurrentDelete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

func testPing(t *testing.T, s engine.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// newTenant returns a valid tenant name (see engine.ValidTenantName) that no
// other subtest or run uses.
func newTenant() string {
	return "st-" + strings.ToLower(rand.Text()[:12])
}

// now is the current time without its monotonic reading, as a store that
// serialises records gives it back.
func now() time.Time { return time.Now().Round(0) }

// newClient returns a client of tenant with every kind of field set, so
// that a store that drops or aliases one is caught.
func newClient(tenant, id string) *engine.Client {
	t := now()
	maxAge := int64(3600)
	return &engine.Client{
		Tenant:    tenant,
		ID:        id,
		IssuedAt:  t,
		UpdatedAt: t,
		Metadata: engine.Metadata{
			RedirectURIs:            []string{"https://app.example/cb", "https://app.example/cb2"},
			TokenEndpointAuthMethod: "client_secret_basic",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ApplicationType:         "web",
			ClientName:              "client " + id,
			Contacts:                []string{"ops@app.example"},
			JWKS:                    json.RawMessage(`{"keys":[]}`),
			DefaultMaxAge:           &maxAge,
			Localized:               map[string]string{"client_name#fr": "client " + id},
			Extra:                   map[string]json.RawMessage{"software_tier": json.RawMessage(`"gold"`)},
		},
		SecretHash:            engine.HashToken("secret " + tenant + " " + id),
		RegistrationTokenHash: engine.HashToken("rat " + tenant + " " + id),
		RegistrationPolicies:  []string{"audit", "quota"},
	}
}

// newToken returns an initial access token of tenant with every field but
// Uses and ExpiresAt set.
func newToken(tenant, id string, maxUses int64) *engine.InitialAccessToken {
	return &engine.InitialAccessToken{
		Tenant:    tenant,
		ID:        id,
		CreatedAt: now(),
		Policies:  []string{"audit", "quota"},
		MaxUses:   maxUses,
		ClientID:  "reserved-" + id,
	}
}

// scribbleClient changes every field of c, reaching into its slices, maps
// and pointers instead of replacing them, to catch a store that keeps or
// hands out memory it shares with its caller.
func scribbleClient(c *engine.Client) {
	c.Tenant += "x"
	c.ID += "x"
	c.IssuedAt = c.IssuedAt.Add(time.Hour)
	c.UpdatedAt = c.UpdatedAt.Add(time.Hour)
	c.ExpiresAt = c.ExpiresAt.Add(time.Hour)
	c.SecretHash = "scribbled"
	c.RegistrationTokenHash = "scribbled"
	c.IssuedBy = "scribbled"
	m := &c.Metadata
	m.ClientName = "scribbled"
	for _, s := range [][]string{m.RedirectURIs, m.GrantTypes, m.ResponseTypes, m.Contacts, c.RegistrationPolicies} {
		for i := range s {
			s[i] = "scribbled"
		}
	}
	scribbleJSON(m.JWKS)
	if m.DefaultMaxAge != nil {
		*m.DefaultMaxAge = -1
	}
	for k := range m.Localized {
		m.Localized[k] = "scribbled"
	}
	for _, v := range m.Extra {
		scribbleJSON(v)
	}
	if m.Extra == nil {
		m.Extra = map[string]json.RawMessage{}
	}
	m.Extra["scribbled"] = json.RawMessage(`true`)
}

// scribbleJSON changes the letters of a JSON text in place. The test data
// has letters only inside strings, which therefore stay valid JSON.
func scribbleJSON(b []byte) {
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = 'X'
		}
	}
}

// scribbleToken changes every field of t, reaching into its slice.
func scribbleToken(t *engine.InitialAccessToken) {
	t.Tenant += "x"
	t.ID += "x"
	t.CreatedAt = t.CreatedAt.Add(time.Hour)
	t.ExpiresAt = t.ExpiresAt.Add(time.Hour)
	for i := range t.Policies {
		t.Policies[i] = "scribbled"
	}
	t.MaxUses += 100
	t.Uses += 100
	t.ClientID = "scribbled"
	t.Replacement = !t.Replacement
}

// checkClient reports whether got holds what want does: the times must be
// Equal and everything else must encode to the same JSON, the form in which
// a store may keep it.
func checkClient(t *testing.T, what string, got, want *engine.Client) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil client", what)
		return false
	}
	ok := checkTimes(t, what, []timeField{
		{"IssuedAt", got.IssuedAt, want.IssuedAt},
		{"UpdatedAt", got.UpdatedAt, want.UpdatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	})
	g, w := got.Clone(), want.Clone()
	for _, c := range []*engine.Client{g, w} {
		c.IssuedAt, c.UpdatedAt, c.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	}
	return checkJSON(t, what, g, w) && ok
}

// checkToken is checkClient for initial access tokens.
func checkToken(t *testing.T, what string, got, want *engine.InitialAccessToken) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil token", what)
		return false
	}
	ok := checkTimes(t, what, []timeField{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	})
	g, w := got.Clone(), want.Clone()
	g.CreatedAt, g.ExpiresAt = time.Time{}, time.Time{}
	w.CreatedAt, w.ExpiresAt = time.Time{}, time.Time{}
	return checkJSON(t, what, g, w) && ok
}

type timeField struct {
	name      string
	got, want time.Time
}

func checkTimes(t *testing.T, what string, fields []timeField) bool {
	t.Helper()
	ok := true
	for _, f := range fields {
		if !f.got.Equal(f.want) {
			t.Errorf("%s: %s = %v, want %v", what, f.name, f.got, f.want)
			ok = false
		}
	}
	return ok
}

func checkJSON(t *testing.T, what string, got, want any) bool {
	t.Helper()
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	wb, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode: %v", what, err)
	}
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
		return false
	}
	return true
}

// checkErr reports whether err matches target (errors.Is).
func checkErr(t *testing.T, what string, err, target error) bool {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
		return false
	}
	return true
}

// mustCreateClient stores c, failing the test if that fails.
func mustCreateClient(t *testing.T, s engine.Store, c *engine.Client) {
	t.Helper()
	if err := s.CreateClient(t.Context(), c, engine.CreateOptions{}); err != nil {
		t.Fatalf("CreateClient(%s/%s): %v", c.Tenant, c.ID, err)
	}
}

// mustCreateToken stores tok, failing the test if that fails.
func mustCreateToken(t *testing.T, s engine.Store, tok *engine.InitialAccessToken) {
	t.Helper()
	if err := s.CreateInitialAccessToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateInitialAccessToken(%s/%s): %v", tok.Tenant, tok.ID, err)
	}
}

// mustClient reads a client that must be there.
func mustClient(t *testing.T, s engine.Store, tenant, id string) *engine.Client {
	t.Helper()
	c, err := s.Client(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("Client(%s/%s): %v", tenant, id, err)
	}
	return c
}

// mustToken reads a token that must be there.
func mustToken(t *testing.T, s engine.Store, tenant, id string) *engine.InitialAccessToken {
	t.Helper()
	tok, err := s.InitialAccessToken(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("InitialAccessToken(%s/%s): %v", tenant, id, err)
	}
	return tok
}

// checkNoClient checks that the client is absent.
func checkNoClient(t *testing.T, s engine.Store, tenant, id string) {
	t.Helper()
	c, err := s.Client(t.Context(), tenant, id)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Client(%s/%s) = %v, %v; want ErrNotFound", tenant, id, c, err)
	}
}

// checkUses checks how many uses of a token are recorded.
func checkUses(t *testing.T, s engine.Store, tenant, id string, want int64) {
	t.Helper()
	if got := mustToken(t, s, tenant, id).Uses; got != want {
		t.Errorf("token %s/%s: Uses = %d, want %d", tenant, id, got, want)
	}
}

// listIDs returns the IDs of all clients of tenant, page by page.
func listIDs(t *testing.T, s engine.Store, tenant string, limit int) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 1000 {
		page, next, err := s.Clients(t.Context(), tenant, engine.ClientFilter{}, after, limit)
		if err != nil {
			t.Fatalf("Clients(%s, %q, %d): %v", tenant, after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("Clients(%s, %q, %d) returned %d clients", tenant, after, limit, len(page))
		}
		if len(page) == 0 && after != "" {
			t.Errorf("Clients(%s, %d): cursor %q led to an empty page; the page before it was the last", tenant, limit, after)
		}
		for _, c := range page {
			if c.Tenant != tenant {
				t.Errorf("Clients(%s) returned client %s/%s", tenant, c.Tenant, c.ID)
			}
			ids = append(ids, c.ID)
		}
		if next == "" {
			return ids
		}
		if len(page) < limit {
			t.Errorf("Clients(%s, %q, %d): short page of %d with next cursor %q", tenant, after, limit, len(page), next)
		}
		after = next
	}
	t.Fatalf("Clients(%s): no last page after 1000 pages", tenant)
	return nil
}
