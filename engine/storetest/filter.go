package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// Policy versions of the filter tests. v1 and v1b share a name and differ
// in digest; v2 has the digest of v1 under another name.
var (
	v1  = engine.PolicyVersion{Name: "policy-a", Digest: digest("a1")}
	v1b = engine.PolicyVersion{Name: "policy-a", Digest: digest("a2")}
	v2  = engine.PolicyVersion{Name: "policy-b", Digest: digest("a1")}
	v3  = engine.PolicyVersion{Name: "policy-c", Digest: digest("c1")}
)

// provenance returns a history entry in which the versions ran.
func provenance(event string, versions ...engine.PolicyVersion) engine.Provenance {
	return engine.Provenance{Event: event, At: now(), Policies: versions}
}

// shapedClient returns a client admitted by token (if not empty) whose
// history is made of entries with the given versions, oldest first.
func shapedClient(tenant, id, token string, entries ...[]engine.PolicyVersion) *engine.Client {
	c := issuedClient(tenant, id, token)
	c.History = nil
	for i, versions := range entries {
		event := engine.EventUpdate
		if i == 0 {
			event = engine.EventRegister
		}
		p := provenance(event, versions...)
		if i == 0 {
			p.Token = token
		}
		c.History = append(c.History, p)
	}
	return c
}

// versions makes a list of policy versions, for shapedClient.
func versions(vs ...engine.PolicyVersion) []engine.PolicyVersion { return vs }

// testClientsFilter lists clients by admitting token and by policy version.
func testClientsFilter(t *testing.T, s engine.Store) {
	tenant := newTenant()
	tokA, tokB := engine.HashToken("a"), engine.HashToken("b")
	clients := createFilterClients(t, s, tenant, tokA, tokB)
	for _, tc := range filterCases(tokA, tokB) {
		checkFilterCase(t, s, tenant, clients, tc)
	}

	// The listed clients are whole, and the cursor need not match.
	page, next, err := s.Clients(t.Context(), tenant, engine.ClientFilter{Policy: v1}, "a3-a-v1b", 2)
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	if len(page) != 2 || next != "a8-b-v1-v2" {
		t.Fatalf("Clients(v1) after a3-a-v1b, limit 2 = %d clients, next %q; want a6-a-now-v1, a8-b-v1-v2 and a cursor", len(page), next)
	}
	checkClient(t, "filtered Clients entry", page[0], clients[6])
	checkClient(t, "filtered Clients entry", page[1], clients[8])
}

// createFilterClients creates the initial access tokens tokA and tokB, the
// clients of testClientsFilter, an expired client that matches, and clients
// of a neighbour that match every filter. It returns the tenant's live
// clients, in order.
func createFilterClients(t *testing.T, s engine.Store, tenant, tokA, tokB string) []*engine.Client {
	t.Helper()
	neighbour := tenant + "-b"
	mustCreateToken(t, s, newToken(tenant, tokA, 0))
	mustCreateToken(t, s, newToken(tenant, tokB, 0))
	mustCreateToken(t, s, newToken(neighbour, tokA, 0)) // same ID, other tenant

	// Clients that match nothing lie before, between and after those
	// that match, so that pages have to skip them.
	clients := []*engine.Client{
		shapedClient(tenant, "a0-none", ""),
		shapedClient(tenant, "a1-a-v1", tokA, versions(v1)),
		shapedClient(tenant, "a2-b-v1", tokB, versions(v3, v1)),
		shapedClient(tenant, "a3-a-v1b", tokA, versions(v1b)),
		shapedClient(tenant, "a4-none-v2", "", versions(v2)),
		shapedClient(tenant, "a5-a-was-v1", tokA, versions(v1), versions(v3)),
		shapedClient(tenant, "a6-a-now-v1", tokA, versions(v3), versions(v2), versions(v1, v3)),
		shapedClient(tenant, "a7-b-empty", tokB, versions()),
		shapedClient(tenant, "a8-b-v1-v2", tokB, versions(v2, v1)),
		shapedClient(tenant, "a9-a", tokA),
		shapedClient(tenant, "b0-none-v1", "", versions(v1)),
		shapedClient(tenant, "b1-a-v3", tokA, versions(v3)),
		shapedClient(tenant, "b2-b", tokB, versions(v3)),
		shapedClient(tenant, "b3-none", ""),
	}
	for _, c := range clients {
		mustCreateClient(t, s, c)
	}
	// Already expired: never listed.
	expired := shapedClient(tenant, "a55-a-v1-expired", tokA, versions(v1))
	expired.ExpiresAt = now().Add(-time.Minute)
	if err := s.CreateClient(t.Context(), expired, engine.CreateOptions{}); err != nil {
		t.Fatalf("CreateClient of an expired client: %v", err)
	}
	// The neighbour's clients match every filter but are not the tenant's.
	for _, id := range []string{"a1-a-v1", "a55", "c0"} {
		mustCreateClient(t, s, shapedClient(neighbour, id, tokA, versions(v1, v2)))
	}
	return clients
}

// filterCase is a filter of testClientsFilter and the IDs it lists.
type filterCase struct {
	name   string
	filter engine.ClientFilter
	want   []string
}

// filterCases lists the filters of testClientsFilter over the clients of
// createFilterClients.
func filterCases(tokA, tokB string) []filterCase {
	return []filterCase{
		{"all", engine.ClientFilter{}, []string{
			"a0-none", "a1-a-v1", "a2-b-v1", "a3-a-v1b", "a4-none-v2", "a5-a-was-v1", "a6-a-now-v1",
			"a7-b-empty", "a8-b-v1-v2", "a9-a", "b0-none-v1", "b1-a-v3", "b2-b", "b3-none"}},
		{"token a", engine.ClientFilter{IssuedBy: tokA}, []string{
			"a1-a-v1", "a3-a-v1b", "a5-a-was-v1", "a6-a-now-v1", "a9-a", "b1-a-v3"}},
		{"token b", engine.ClientFilter{IssuedBy: tokB}, []string{"a2-b-v1", "a7-b-empty", "a8-b-v1-v2", "b2-b"}},
		{"unknown token", engine.ClientFilter{IssuedBy: engine.HashToken("unknown")}, nil},
		{"v1", engine.ClientFilter{Policy: v1}, []string{"a1-a-v1", "a2-b-v1", "a6-a-now-v1", "a8-b-v1-v2", "b0-none-v1"}},
		{"v1b", engine.ClientFilter{Policy: v1b}, []string{"a3-a-v1b"}},
		{"v2", engine.ClientFilter{Policy: v2}, []string{"a4-none-v2", "a8-b-v1-v2"}},
		{"v3", engine.ClientFilter{Policy: v3}, []string{"a2-b-v1", "a5-a-was-v1", "a6-a-now-v1", "b1-a-v3", "b2-b"}},
		{"unknown version", engine.ClientFilter{Policy: engine.PolicyVersion{Name: "policy-a", Digest: digest("a3")}}, nil},
		{"token a and v1", engine.ClientFilter{IssuedBy: tokA, Policy: v1}, []string{"a1-a-v1", "a6-a-now-v1"}},
		{"token b and v1", engine.ClientFilter{IssuedBy: tokB, Policy: v1}, []string{"a2-b-v1", "a8-b-v1-v2"}},
		{"token b and v1b", engine.ClientFilter{IssuedBy: tokB, Policy: v1b}, nil},
	}
}

// checkFilterCase checks that ClientFilter.Match agrees with the written
// expectation of tc, and that the store lists them at every page size.
func checkFilterCase(t *testing.T, s engine.Store, tenant string, clients []*engine.Client, tc filterCase) {
	t.Helper()
	// The expectations are written out by hand; Match must agree.
	var matched []string
	for _, c := range clients {
		if tc.filter.Match(c) {
			matched = append(matched, c.ID)
		}
	}
	if !slices.Equal(matched, tc.want) {
		t.Fatalf("test data: %s: ClientFilter.Match keeps %q, the test expects %q", tc.name, matched, tc.want)
	}
	for _, limit := range []int{1, 2, 3, 5, len(clients) + 1} {
		if got := listFiltered(t, s, tenant, tc.filter, limit); !slices.Equal(got, tc.want) {
			t.Errorf("%s, limit %d: Clients = %q, want %q", tc.name, limit, got, tc.want)
		}
	}
	// A full page that ends at the last match has no next cursor,
	// although clients that do not match follow it.
	if n := len(tc.want); n > 0 {
		page, next, err := s.Clients(t.Context(), tenant, tc.filter, "", n)
		if err != nil || len(page) != n || next != "" {
			t.Errorf("%s: Clients with limit %d = %d clients, next %q, %v; want all, no cursor", tc.name, n, len(page), next, err)
		}
	}
}

// testClientsFilterStale checks that a filtered listing follows changes of
// the clients: writes that change a client's history or admitting token
// move it out of the listings it no longer matches and into those it now
// does, and deleted or expired clients leave them.
func testClientsFilterStale(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	tokA, tokB := newToken(tenant, engine.HashToken("a"), 0), newToken(tenant, engine.HashToken("b"), 0)
	mustCreateToken(t, s, tokA)
	mustCreateToken(t, s, tokB)
	for _, c := range []*engine.Client{
		shapedClient(tenant, "updated", tokA.ID, versions(v1)),
		shapedClient(tenant, "replaced", tokA.ID, versions(v1)),
		shapedClient(tenant, "deleted", tokA.ID, versions(v1)),
		shapedClient(tenant, "expiring", tokA.ID, versions(v1)),
		shapedClient(tenant, "kept", tokA.ID, versions(v1)),
	} {
		mustCreateClient(t, s, c)
	}
	check := func(when string, want map[engine.ClientFilter][]string) {
		t.Helper()
		for f, ids := range want {
			for _, limit := range []int{1, 10} {
				if got := listFiltered(t, s, tenant, f, limit); !slices.Equal(got, ids) {
					t.Errorf("%s: Clients(%+v, limit %d) = %q, want %q", when, f, limit, got, ids)
				}
			}
		}
	}
	byV1, byV2 := engine.ClientFilter{Policy: v1}, engine.ClientFilter{Policy: v2}
	byA, byB := engine.ClientFilter{IssuedBy: tokA.ID}, engine.ClientFilter{IssuedBy: tokB.ID}
	byAV2 := engine.ClientFilter{IssuedBy: tokA.ID, Policy: v2}
	all5 := []string{"deleted", "expiring", "kept", "replaced", "updated"}
	check("before the changes", map[engine.ClientFilter][]string{byV1: all5, byV2: nil, byA: all5, byB: nil})

	if _, err := s.UpdateClient(ctx, tenant, "updated", func(c *engine.Client) error {
		c.History = append(c.History, provenance(engine.EventUpdate, v2))
		return nil
	}); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	r := shapedClient(tenant, "replaced", tokB.ID, versions(v2))
	if err := s.CreateClient(ctx, r, engine.CreateOptions{Replace: true}); err != nil {
		t.Fatalf("CreateClient with replace: %v", err)
	}
	if err := s.DeleteClient(ctx, tenant, "deleted"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := s.UpdateClient(ctx, tenant, "expiring", func(c *engine.Client) error {
		c.ExpiresAt = now().Add(-time.Second)
		return nil
	}); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	check("after the changes", map[engine.ClientFilter][]string{
		byV1:  {"kept"},
		byV2:  {"replaced", "updated"},
		byA:   {"kept", "updated"},
		byB:   {"replaced"},
		byAV2: {"updated"},
	})

	// Back again.
	if _, err := s.UpdateClient(ctx, tenant, "updated", func(c *engine.Client) error {
		c.History = append(c.History, provenance(engine.EventUpdate, v1, v2))
		return nil
	}); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	check("after updating again", map[engine.ClientFilter][]string{
		byV1: {"kept", "updated"},
		byV2: {"replaced", "updated"},
	})
}

// testHistory checks that a client's history comes back exactly as it went
// in: every entry, in order, times to the nanosecond, empty and absent
// policy lists apart, with the versions of the other hooks that ran.
func testHistory(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	c := newClient(tenant, "history")
	c.History = nil
	base := now()
	for i := range engine.MaxHistory {
		p := engine.Provenance{
			Event: engine.EventUpdate,
			At:    base.Add(time.Duration(i)*time.Second + time.Duration(i+1)), // odd nanoseconds
		}
		switch i {
		case 0:
			p.Event, p.Token = engine.EventRegister, engine.HashToken("iat")
			p.Policies = []engine.PolicyVersion{v1, v2, v3}
			p.Hooks = []engine.HookVersion{
				{Hook: engine.HookSecretFactory, Name: v2.Name, Digest: v2.Digest},
				{Hook: engine.HookIDFactory, Name: "ids", Digest: digest("ids")},
				{Hook: engine.HookIssueRAT, Name: v1.Name, Digest: v1.Digest},
			}
		case 1:
			p.Policies = []engine.PolicyVersion{} // ran none
			p.Hooks = []engine.HookVersion{{Hook: engine.HookRotateRAT, Name: "rat", Digest: digest("rat")}}
		case 2:
			// no Policies at all
		case 3:
			p.Event, p.Token = engine.EventReplace, engine.HashToken("replacement iat")
			p.Policies = []engine.PolicyVersion{v1b}
		default:
			p.Policies = []engine.PolicyVersion{{Name: fmt.Sprintf("policy-%d", i), Digest: digest(fmt.Sprint(i))}, v1}
		}
		c.History = append(c.History, p)
	}
	mustCreateClient(t, s, c)
	checkClient(t, "Client with a full history", mustClient(t, s, tenant, "history"), c)
	page, _, err := s.Clients(ctx, tenant, engine.ClientFilter{Policy: v1}, "", 1)
	if err != nil || len(page) != 1 {
		t.Fatalf("Clients(v1) = %d clients, %v; want 1", len(page), err)
	}
	checkClient(t, "Clients entry with a full history", page[0], c)

	// An update that drops the history stores none.
	got, err := s.UpdateClient(ctx, tenant, "history", func(c *engine.Client) error {
		c.History = nil
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	c.History = nil
	checkClient(t, "UpdateClient result without history", got, c)
	checkClient(t, "Client without history", mustClient(t, s, tenant, "history"), c)
	if ids := listFiltered(t, s, tenant, engine.ClientFilter{Policy: v1}, 1); len(ids) != 0 {
		t.Errorf("Clients(v1) of a client without history = %q, want none", ids)
	}
}

// testTokenListing pages through a tenant's initial access tokens.
func testTokenListing(t *testing.T, s engine.Store) {
	tenant := newTenant()
	const ttl = 300 * time.Millisecond
	soon := now().Add(ttl)
	tokens, want := seedListedTokens(t, s, tenant)
	expiring := seedUnlistedTokens(t, s, tenant, want, soon)

	if time.Until(soon) > ttl/3 {
		all := slices.Sorted(slices.Values(append(slices.Clone(want), expiring...)))
		if got := listTokenIDs(t, s, tenant, 100); !slices.Equal(got, all) && time.Until(soon) > 0 {
			t.Errorf("InitialAccessTokens before the expiry = %q, want %q", got, all)
		}
	} else {
		t.Logf("the test was too slow to list the tokens before they expire")
	}
	eventually(t, "expiring tokens disappear", func() bool {
		_, err := s.InitialAccessToken(t.Context(), tenant, expiring[0])
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("InitialAccessToken: %v", err)
		}
		return err != nil
	})
	checkTokenPages(t, s, tenant, tokens, want)
}

// seedListedTokens creates the tokens that testTokenListing lists: nine,
// some with a long expiry, the first used once. It returns them by ID, and
// their IDs in order.
func seedListedTokens(t *testing.T, s engine.Store, tenant string) (map[string]*engine.InitialAccessToken, []string) {
	tokens := map[string]*engine.InitialAccessToken{}
	var want []string
	for i := range 9 {
		id := engine.HashToken(fmt.Sprint("listed ", i))
		tok := newToken(tenant, id, int64(i))
		if i%3 == 0 {
			tok.ExpiresAt = now().Add(time.Hour)
		}
		mustCreateToken(t, s, tok)
		tokens[id] = tok
		want = append(want, id)
	}
	slices.Sort(want)
	// Used tokens are listed with their uses.
	mustCreateClient(t, s, issuedClient(tenant, "issued", want[0]))
	tokens[want[0]].Uses = 1
	return tokens, want
}

// seedUnlistedTokens creates the tokens that testTokenListing must not list
// once they are gone: an expired one, four expiring at soon (returned), a
// deleted one, and the neighbouring tenants' tokens with the same IDs.
func seedUnlistedTokens(t *testing.T, s engine.Store, tenant string, want []string, soon time.Time) (expiring []string) {
	ctx := t.Context()
	expired := newToken(tenant, engine.HashToken("expired"), 0)
	expired.ExpiresAt = now().Add(-time.Minute)
	if err := s.CreateInitialAccessToken(ctx, expired); err != nil {
		t.Fatalf("CreateInitialAccessToken of an expired token: %v", err)
	}
	for i := range 4 {
		tok := newToken(tenant, engine.HashToken(fmt.Sprint("expiring ", i)), 0)
		tok.ExpiresAt = soon
		mustCreateToken(t, s, tok)
		expiring = append(expiring, tok.ID)
	}
	for _, neighbour := range []string{tenant + "b", tenant + "-b"} {
		for _, id := range want[:3] {
			mustCreateToken(t, s, newToken(neighbour, id, 0))
		}
	}
	deleted := newToken(tenant, engine.HashToken("deleted"), 0)
	mustCreateToken(t, s, deleted)
	if err := s.DeleteInitialAccessToken(ctx, tenant, deleted.ID); err != nil {
		t.Fatalf("DeleteInitialAccessToken: %v", err)
	}
	return expiring
}

// checkTokenPages pages through the listed tokens with every limit, checks
// their contents and that they are copies, then the cursors.
func checkTokenPages(t *testing.T, s engine.Store, tenant string, tokens map[string]*engine.InitialAccessToken, want []string) {
	ctx := t.Context()
	for limit := 1; limit <= len(want)+1; limit++ {
		if got := listTokenIDs(t, s, tenant, limit); !slices.Equal(got, want) {
			t.Errorf("InitialAccessTokens with limit %d = %q, want %q", limit, got, want)
		}
	}
	page, next, err := s.InitialAccessTokens(ctx, tenant, "", len(want))
	if err != nil || len(page) != len(want) || next != "" {
		t.Fatalf("InitialAccessTokens of all = %d tokens, next %q, %v; want %d and no cursor", len(page), next, err, len(want))
	}
	for _, tok := range page {
		checkToken(t, "InitialAccessTokens entry", tok, tokens[tok.ID])
		scribbleToken(tok)
	}
	checkToken(t, "token after changing what InitialAccessTokens returned", mustToken(t, s, tenant, want[0]), tokens[want[0]])
	checkTokenCursors(t, s, tenant, want)
}

// checkTokenCursors pages from cursors that name no token, the last token,
// and an unknown tenant.
func checkTokenCursors(t *testing.T, s engine.Store, tenant string, want []string) {
	ctx := t.Context()
	// The cursor need not name a token.
	page, next, err := s.InitialAccessTokens(ctx, tenant, want[4]+"0", 2)
	if err != nil || len(page) != 2 || page[0].ID != want[5] || page[1].ID != want[6] || next != want[6] {
		t.Errorf("InitialAccessTokens after a made-up cursor = %d tokens, next %q, %v; want %s, %s and a cursor", len(page), next, err, want[5], want[6])
	}
	page, next, err = s.InitialAccessTokens(ctx, tenant, want[len(want)-1], 2)
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("InitialAccessTokens after the last = %d tokens, next %q, %v; want none", len(page), next, err)
	}
	page, next, err = s.InitialAccessTokens(ctx, newTenant(), "", 2)
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("InitialAccessTokens of an unknown tenant = %d tokens, next %q, %v; want none", len(page), next, err)
	}
}
