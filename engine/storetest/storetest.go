// Package storetest owns the conformance suites of the engine's storage
// interfaces: [Run] checks that an [engine.Store] keeps the contract the
// engine relies on, [RunAuditLog] does the same for an [engine.AuditLog],
// [RunLimiter] for an [engine.Limiter] and [RunPolicyStore] for an
// [engine.PolicyStore]. [Switch] wraps a store for the tests of what uses
// one, to make it fail as an unreachable store does.
//
// Every implementation runs the same suites from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) engine.Store { return memstore.New(memstore.Config{}) })
//	}
//
// The decisions of RunAuditLog, RunLimiter and RunPolicyStore where their
// interfaces are silent are in their own documentation.
//
// The suites use real time only, so that they can drive stores whose clock
// they do not control (a Redis server expires keys on its own clock):
// records expire a fraction of a second after they are written and the
// suite polls, with a generous deadline, for them to disappear. Each
// subtest asks for a fresh store and uses tenant names of its own, drawn at
// random, so stores that share a backend between subtests or between runs
// do not see each other's data. The concurrency tests run 50 goroutines,
// 10 with -short.
//
// Where the documentation of engine.Store is silent, Run decides:
//
//   - A store gives back what it was given: every field, times to the
//     nanosecond (compared with Equal, so the location may change; this
//     includes the At of each History entry), and values that encode to
//     the same JSON (so an empty Policies list stays apart from an absent
//     one).
//   - CreateClient never changes its argument; with Replace it creates an
//     absent client, and replaces the whole record, expiry included.
//   - A create refused with ErrAlreadyExists, ErrQuotaExceeded or
//     ErrNoTenant consumes no token use.
//   - The quota counts the tenant's clients that are live when the create
//     runs. A create with Replace of an absent (or expired) client counts as
//     a new client and may be refused; a replacement of a live client never
//     is, even when the tenant is over the bound.
//   - UpdateClient stores a whole new record, not a merge; it does not call
//     fn for an absent client; a result whose expiry has passed is absent.
//   - Writes of records whose expiry has already passed succeed, and the
//     records are absent at once.
//   - Clients and InitialAccessTokens order IDs byte by byte (as Go compares
//     strings), start after the after ID whether or not a record has it, and
//     return an empty next cursor when no live record (that passes the
//     filter) follows the page, even if expired or filtered-out ones do; a
//     next cursor is the ID of the page's last record. An unknown tenant
//     has an empty page, not ErrNotFound. A client without History passes
//     no Policy filter.
//   - PutTenant never changes its argument; the stored record has the
//     store's Revision and Deleting false, whatever the argument had. A
//     conditional put (ifRevision not 0) of an absent tenant creates
//     nothing and returns ErrRevisionMismatch, as does a negative
//     ifRevision.
//   - PutTenant of a deleted tenant removes its tombstone: the tenant exists
//     again, so creates in it succeed at once.
//   - DeleteTenant of a tenant without a record, known or not, leaves a
//     tombstone as well. While the tombstone lasts, only creates fail with
//     ErrNoTenant (CreateClient with any options, CreateInitialAccessToken,
//     CreateAdminToken); reads, updates and deletes find nothing and return
//     ErrNotFound or empty lists. DeleteTenant of a deleted tenant succeeds.
//   - AdminTokens orders IDs byte by byte, and of an unknown tenant is an
//     empty list, not ErrNotFound.
package storetest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
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
		{"Quota", testQuota},
		{"QuotaExpired", testQuotaExpired},
		{"QuotaToken", testQuotaToken},
		{"CreateCheckOrder", testCreateCheckOrder},
		{"CreateAudit", testCreateAudit},
		{"CreateMarks", testCreateMarks},
		{"ClientAudited", testClientAudited},
		{"ClientsFilter", testClientsFilter},
		{"ClientsFilterStale", testClientsFilterStale},
		{"History", testHistory},
		{"SoftwareIDUnique", testSoftwareIDUnique},
		{"SoftwareIDChanges", testSoftwareIDChanges},
		{"SoftwareIDExpiry", testSoftwareIDExpiry},
		{"InitialAccessTokens", testTokenListing},
		{"TenantRecords", testTenantRecords},
		{"TenantsList", testTenantsList},
		{"TenantChanges", testTenantChanges},
		{"DeleteTenant", testDeleteTenant},
		{"DeleteTenantWithoutRecord", testDeleteTenantWithoutRecord},
		{"PutTenantAfterDelete", testPutTenantAfterDelete},
		{"AdminTokenCRUD", testAdminTokenCRUD},
		{"AdminTokens", testAdminTokens},
		{"ConcurrentTokenUses", testConcurrentTokenUses},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentDelete", testConcurrentDelete},
		{"ConcurrentQuota", testConcurrentQuota},
		{"ConcurrentSoftwareID", testConcurrentSoftwareID},
		{"ConcurrentPutTenant", testConcurrentPutTenant},
		{"ConcurrentDeleteTenant", testConcurrentDeleteTenant},
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
		SecretSealed:          "seal1.kek-1.c2VhbGVkIHNlY3JldCBvZiA" + id,
		RegistrationTokenHash: engine.HashToken("rat " + tenant + " " + id),
		RegistrationPolicies:  []string{"audit", "quota"},
		History: []engine.Provenance{{
			Event:    engine.EventRegister,
			At:       t,
			Token:    engine.HashToken("iat " + tenant),
			Policies: []engine.PolicyVersion{{Name: "audit", Digest: digest("audit")}, {Name: "quota", Digest: digest("quota")}},
			Hooks:    []engine.HookVersion{{Hook: engine.HookIDFactory, Name: "ids", Digest: digest("ids")}},
		}},
	}
}

// digest returns a policy digest made from s.
func digest(s string) string { return engine.HashToken("module " + s) }

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
	c.SecretSealed = "scribbled"
	c.RegistrationTokenHash = "scribbled"
	c.IssuedBy = "scribbled"
	m := &c.Metadata
	m.ClientName = "scribbled"
	for _, s := range [][]string{m.RedirectURIs, m.GrantTypes, m.ResponseTypes, m.Contacts, c.RegistrationPolicies} {
		for i := range s {
			s[i] = "scribbled"
		}
	}
	for i := range c.History {
		h := &c.History[i]
		h.Event, h.Token = "scribbled", "scribbled"
		h.At = h.At.Add(time.Hour)
		for j := range h.Policies {
			h.Policies[j] = engine.PolicyVersion{Name: "scribbled", Digest: "scribbled"}
		}
		for j := range h.Hooks {
			h.Hooks[j] = engine.HookVersion{Hook: "scribbled", Name: "scribbled", Digest: "scribbled"}
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
	times := []timeField{
		{"IssuedAt", got.IssuedAt, want.IssuedAt},
		{"UpdatedAt", got.UpdatedAt, want.UpdatedAt},
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
	}
	if len(got.History) == len(want.History) {
		for i := range got.History {
			times = append(times, timeField{fmt.Sprintf("History[%d].At", i), got.History[i].At, want.History[i].At})
		}
	}
	ok := checkTimes(t, what, times)
	g, w := got.Clone(), want.Clone()
	for _, c := range []*engine.Client{g, w} {
		c.IssuedAt, c.UpdatedAt, c.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
		if len(got.History) == len(want.History) {
			for i := range c.History {
				c.History[i].At = time.Time{}
			}
		}
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
	return listFiltered(t, s, tenant, engine.ClientFilter{}, limit)
}

// listFiltered returns the IDs of the clients of tenant that pass filter,
// page by page.
func listFiltered(t *testing.T, s engine.Store, tenant string, filter engine.ClientFilter, limit int) []string {
	t.Helper()
	what := fmt.Sprintf("Clients(%s, %+v, limit %d)", tenant, filter, limit)
	return collect(t, what, limit, func(after string) ([]*engine.Client, string, error) {
		page, next, err := s.Clients(t.Context(), tenant, filter, after, limit)
		for _, c := range page {
			if c.Tenant != tenant {
				t.Errorf("%s returned client %s/%s", what, c.Tenant, c.ID)
			}
			if !filter.Match(c) {
				t.Errorf("%s returned client %s, which does not pass the filter", what, c.ID)
			}
		}
		return page, next, err
	}, func(c *engine.Client) string { return c.ID })
}

// listTokenIDs returns the IDs of all initial access tokens of tenant,
// page by page.
func listTokenIDs(t *testing.T, s engine.Store, tenant string, limit int) []string {
	t.Helper()
	what := fmt.Sprintf("InitialAccessTokens(%s, limit %d)", tenant, limit)
	return collect(t, what, limit, func(after string) ([]*engine.InitialAccessToken, string, error) {
		page, next, err := s.InitialAccessTokens(t.Context(), tenant, after, limit)
		for _, tok := range page {
			if tok.Tenant != tenant {
				t.Errorf("%s returned token %s/%s", what, tok.Tenant, tok.ID)
			}
		}
		return page, next, err
	}, func(tok *engine.InitialAccessToken) string { return tok.ID })
}

// collect pages through a listing with fetch, checking the paging rules:
// no page is longer than limit, a page with a next cursor is full, next is
// the ID of the page's last record, and a cursor never leads to an empty
// page. It returns the IDs in the order listed.
func collect[T any](t *testing.T, what string, limit int, fetch func(after string) ([]T, string, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	after := ""
	for range 1000 {
		page, next, err := fetch(after)
		if err != nil {
			t.Fatalf("%s after %q: %v", what, after, err)
		}
		if len(page) > limit {
			t.Fatalf("%s after %q returned %d records", what, after, len(page))
		}
		if len(page) == 0 && after != "" {
			t.Errorf("%s: cursor %q led to an empty page; the page before it was the last", what, after)
		}
		for _, r := range page {
			ids = append(ids, id(r))
		}
		if next == "" {
			return ids
		}
		if len(page) < limit {
			t.Errorf("%s after %q: short page of %d with next cursor %q", what, after, len(page), next)
		}
		if len(page) > 0 && next != id(page[len(page)-1]) {
			t.Errorf("%s after %q: next cursor %q, want the last ID of the page, %q", what, after, next, id(page[len(page)-1]))
		}
		after = next
	}
	t.Fatalf("%s: no last page after 1000 pages", what)
	return nil
}
