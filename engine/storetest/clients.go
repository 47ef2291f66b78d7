package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

func testClientCRUD(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	want := newClient(tenant, "crud")
	want.ExpiresAt = now().Add(time.Hour)
	mustCreateClient(t, s, want.Clone())
	checkClient(t, "Client after CreateClient", mustClient(t, s, tenant, "crud"), want)

	updatedAt := now().Add(time.Minute)
	got, err := s.UpdateClient(ctx, tenant, "crud", func(c *engine.Client) error {
		c.UpdatedAt = updatedAt
		c.Metadata.ClientName = "renamed"
		c.Metadata.RedirectURIs = append(c.Metadata.RedirectURIs, "https://app.example/cb3")
		c.RegistrationTokenHash = engine.HashToken("rotated")
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	want.UpdatedAt = updatedAt
	want.Metadata.ClientName = "renamed"
	want.Metadata.RedirectURIs = append(want.Metadata.RedirectURIs, "https://app.example/cb3")
	want.RegistrationTokenHash = engine.HashToken("rotated")
	checkClient(t, "UpdateClient result", got, want)
	checkClient(t, "Client after UpdateClient", mustClient(t, s, tenant, "crud"), want)

	if err := s.DeleteClient(ctx, tenant, "crud"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	checkNoClient(t, s, tenant, "crud")
	_, err = s.UpdateClient(ctx, tenant, "crud", func(*engine.Client) error {
		t.Error("UpdateClient called fn for a deleted client")
		return nil
	})
	checkErr(t, "UpdateClient after DeleteClient", err, engine.ErrNotFound)
	checkErr(t, "DeleteClient after DeleteClient", s.DeleteClient(ctx, tenant, "crud"), engine.ErrNotFound)
	if ids := listIDs(t, s, tenant, 10); len(ids) != 0 {
		t.Errorf("Clients after DeleteClient = %v, want none", ids)
	}

	// The ID is free again.
	again := newClient(tenant, "crud")
	mustCreateClient(t, s, again)
	checkClient(t, "Client after creating a deleted ID again", mustClient(t, s, tenant, "crud"), again)
}

// testClientCopies checks that the store neither keeps the clients it is
// given nor hands out the ones it keeps.
func testClientCopies(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	c := newClient(tenant, "copies")
	c.ExpiresAt = now().Add(time.Hour)
	want := c.Clone()
	mustCreateClient(t, s, c)
	checkClient(t, "argument of CreateClient after the call", c, want)
	scribbleClient(c)
	checkClient(t, "Client after changing the argument of CreateClient", mustClient(t, s, tenant, "copies"), want)

	scribbleClient(mustClient(t, s, tenant, "copies"))
	checkClient(t, "Client after changing what Client returned", mustClient(t, s, tenant, "copies"), want)

	page, _, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("Clients = %d clients, %v; want 1", len(page), err)
	}
	scribbleClient(page[0])
	checkClient(t, "Client after changing what Clients returned", mustClient(t, s, tenant, "copies"), want)

	// Neither the client fn is given, nor what fn puts into it, nor the
	// result is the stored one.
	policies := []string{"fresh"}
	var given *engine.Client
	got, err := s.UpdateClient(ctx, tenant, "copies", func(c *engine.Client) error {
		given = c
		c.RegistrationPolicies = policies
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	want.RegistrationPolicies = []string{"fresh"}
	checkClient(t, "UpdateClient result", got, want)
	scribbleClient(got)
	if given != got {
		scribbleClient(given)
	}
	policies[0] = "scribbled"
	checkClient(t, "Client after changing what UpdateClient handled", mustClient(t, s, tenant, "copies"), want)
}

func testClientNotFound(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant, other := newTenant(), newTenant()
	present := newClient(tenant, "present")
	mustCreateClient(t, s, present)
	token := newToken(tenant, "present", 0)
	mustCreateToken(t, s, token)

	for _, k := range []struct{ tenant, id string }{
		{tenant, "absent"},
		{tenant, "Present"}, // IDs are case-sensitive
		{tenant, "presen"},
		{tenant, "present-"},
		{other, "present"},
	} {
		checkNoClient(t, s, k.tenant, k.id)
		_, err := s.UpdateClient(ctx, k.tenant, k.id, func(*engine.Client) error {
			t.Errorf("UpdateClient(%s/%s) called fn", k.tenant, k.id)
			return nil
		})
		checkErr(t, "UpdateClient("+k.tenant+"/"+k.id+")", err, engine.ErrNotFound)
		checkErr(t, "DeleteClient("+k.tenant+"/"+k.id+")", s.DeleteClient(ctx, k.tenant, k.id), engine.ErrNotFound)
		tok, err := s.InitialAccessToken(ctx, k.tenant, k.id)
		if !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("InitialAccessToken(%s/%s) = %v, %v; want ErrNotFound", k.tenant, k.id, tok, err)
		}
		checkErr(t, "DeleteInitialAccessToken("+k.tenant+"/"+k.id+")",
			s.DeleteInitialAccessToken(ctx, k.tenant, k.id), engine.ErrNotFound)
	}

	page, next, err := s.Clients(ctx, other, engine.ClientFilter{}, "", 10)
	if err != nil || len(page) != 0 || next != "" {
		t.Errorf("Clients(unknown tenant) = %d clients, %q, %v; want none", len(page), next, err)
	}

	// The misses changed nothing.
	checkClient(t, "Client after the misses", mustClient(t, s, tenant, "present"), present)
	checkToken(t, "InitialAccessToken after the misses", mustToken(t, s, tenant, "present"), token)
}

func testClientAlreadyExists(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	first := newClient(tenant, "taken")
	first.ExpiresAt = now().Add(time.Hour)
	mustCreateClient(t, s, first)

	second := newClient(tenant, "taken")
	second.IssuedAt = first.IssuedAt.Add(time.Second)
	second.Metadata.ClientName = "second"
	second.Metadata.Extra = nil
	second.RegistrationPolicies = nil
	checkErr(t, "CreateClient of a live ID", s.CreateClient(ctx, second, engine.CreateOptions{}), engine.ErrAlreadyExists)
	checkClient(t, "Client after a refused CreateClient", mustClient(t, s, tenant, "taken"), first)

	// A replacement replaces the whole record, expiry included: second
	// never expires.
	if err := s.CreateClient(ctx, second, engine.CreateOptions{Replace: true}); err != nil {
		t.Fatalf("CreateClient with replace: %v", err)
	}
	checkClient(t, "Client after CreateClient with replace", mustClient(t, s, tenant, "taken"), second)

	// Replacing an absent client creates it.
	fresh := newClient(tenant, "fresh")
	if err := s.CreateClient(ctx, fresh, engine.CreateOptions{Replace: true}); err != nil {
		t.Fatalf("CreateClient with replace of an absent client: %v", err)
	}
	checkClient(t, "Client after CreateClient with replace of an absent client", mustClient(t, s, tenant, "fresh"), fresh)

	if ids := listIDs(t, s, tenant, 10); !slices.Equal(ids, []string{"fresh", "taken"}) {
		t.Errorf("Clients = %v, want [fresh taken]", ids)
	}
}

// testClientIDs uses IDs made of every character a client ID may have.
func testClientIDs(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	ids := []string{
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-",
		"-", "_", "~", "...", ".a", "a.", "a~b", "a_b", "A", "a", "0", "~~",
		strings.Repeat("z", 128),
	}
	for _, id := range ids {
		if !engine.ValidClientID(id) {
			t.Fatalf("test data: %q is not a valid client ID", id)
		}
		c := newClient(tenant, id)
		mustCreateClient(t, s, c)
		checkClient(t, "Client("+id+")", mustClient(t, s, tenant, id), c)
	}
	want := slices.Sorted(slices.Values(ids))
	if got := listIDs(t, s, tenant, 4); !slices.Equal(got, want) {
		t.Errorf("Clients = %q, want %q", got, want)
	}
	for _, id := range ids {
		got, err := s.UpdateClient(ctx, tenant, id, func(c *engine.Client) error {
			c.Metadata.ClientName = "updated " + id
			return nil
		})
		if err != nil {
			t.Fatalf("UpdateClient(%s): %v", id, err)
		}
		if got.ID != id || got.Metadata.ClientName != "updated "+id {
			t.Errorf("UpdateClient(%s) = client %q named %q", id, got.ID, got.Metadata.ClientName)
		}
		if err := s.DeleteClient(ctx, tenant, id); err != nil {
			t.Fatalf("DeleteClient(%s): %v", id, err)
		}
		checkNoClient(t, s, tenant, id)
	}
}

// testTenantIsolation checks that records of different tenants never meet,
// in particular when a key made by joining tenant and ID would be the same.
func testTenantIsolation(t *testing.T, s engine.Store) {
	ctx := t.Context()
	base := newTenant()
	r := isolatedRecords{
		base: base,
		keys: []tenantKey{
			{base, "shared"},
			{base + "b", "shared"},
			{base + "-b", "shared"},
			// Plain concatenation would make these two "<base>bc".
			{base, "bc"}, {base + "b", "c"},
			// Joining with "-" would make these two "<base>-b-c".
			{base, "b-c"}, {base + "-b", "c"},
		},
		clients: map[tenantKey]*engine.Client{},
		tokens:  map[tenantKey]*engine.InitialAccessToken{},
	}
	r.create(t, s)
	r.checkAll(t, s, "after creating")

	// A registration with a token uses the token of its own tenant.
	issued := newClient(base+"b", "issued")
	issued.IssuedBy = "shared"
	mustCreateClient(t, s, issued)
	r.tokens[tenantKey{base + "b", "shared"}].Uses = 1
	if err := s.DeleteClient(ctx, base+"b", "issued"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}

	for i, k := range r.keys {
		r.update(t, s, k)
		if i%2 == 0 {
			r.deleteClient(t, s, k)
		} else {
			r.deleteToken(t, s, k)
		}
	}
}

// tenantKey names a record by tenant and ID.
type tenantKey struct{ tenant, id string }

// isolatedRecords are the records of testTenantIsolation: a client and an
// initial access token for each key, as long as the test has not deleted
// them, in tenants whose names extend base.
type isolatedRecords struct {
	base    string
	keys    []tenantKey
	clients map[tenantKey]*engine.Client
	tokens  map[tenantKey]*engine.InitialAccessToken
}

// create creates a client and a token for each key.
func (r isolatedRecords) create(t *testing.T, s engine.Store) {
	t.Helper()
	for _, k := range r.keys {
		if !engine.ValidTenantName(k.tenant) || !engine.ValidClientID(k.id) {
			t.Fatalf("test data: %q/%q is not a valid tenant and client ID", k.tenant, k.id)
		}
	}
	for _, k := range r.keys {
		c := newClient(k.tenant, k.id)
		c.Metadata.ClientName = k.tenant + "/" + k.id
		mustCreateClient(t, s, c)
		r.clients[k] = c
		tok := newToken(k.tenant, k.id, 0)
		tok.ClientID = k.tenant + "." + k.id
		mustCreateToken(t, s, tok)
		r.tokens[k] = tok
	}
}

// checkAll checks that the store holds exactly the records, read one by one
// and listed by tenant.
func (r isolatedRecords) checkAll(t *testing.T, s engine.Store, when string) {
	t.Helper()
	byTenant := map[string][]string{}
	for _, k := range r.keys {
		if c, ok := r.clients[k]; ok {
			checkClient(t, when+": Client("+k.tenant+"/"+k.id+")", mustClient(t, s, k.tenant, k.id), c)
			byTenant[k.tenant] = append(byTenant[k.tenant], k.id)
		} else {
			checkNoClient(t, s, k.tenant, k.id)
		}
		r.checkToken(t, s, when, k)
	}
	for _, tenant := range []string{r.base, r.base + "b", r.base + "-b"} {
		want := slices.Sorted(slices.Values(byTenant[tenant]))
		if got := listIDs(t, s, tenant, 2); !slices.Equal(got, want) {
			t.Errorf("%s: Clients(%s) = %q, want %q", when, tenant, got, want)
		}
	}
}

// checkToken checks that the store holds the token of k, or none if the
// test deleted it.
func (r isolatedRecords) checkToken(t *testing.T, s engine.Store, when string, k tenantKey) {
	t.Helper()
	if tok, ok := r.tokens[k]; ok {
		checkToken(t, when+": InitialAccessToken("+k.tenant+"/"+k.id+")", mustToken(t, s, k.tenant, k.id), tok)
	} else if _, err := s.InitialAccessToken(t.Context(), k.tenant, k.id); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s: InitialAccessToken(%s/%s): got error %v, want ErrNotFound", when, k.tenant, k.id, err)
	}
}

// update renames the client of k, and checks all records.
func (r isolatedRecords) update(t *testing.T, s engine.Store, k tenantKey) {
	t.Helper()
	_, err := s.UpdateClient(t.Context(), k.tenant, k.id, func(c *engine.Client) error {
		c.Metadata.ClientName = "updated"
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient(%s/%s): %v", k.tenant, k.id, err)
	}
	r.clients[k].Metadata.ClientName = "updated"
	r.checkAll(t, s, "after updating "+k.tenant+"/"+k.id)
}

// deleteClient deletes the client of k, and checks all records.
func (r isolatedRecords) deleteClient(t *testing.T, s engine.Store, k tenantKey) {
	t.Helper()
	if err := s.DeleteClient(t.Context(), k.tenant, k.id); err != nil {
		t.Fatalf("DeleteClient(%s/%s): %v", k.tenant, k.id, err)
	}
	delete(r.clients, k)
	r.checkAll(t, s, "after deleting client "+k.tenant+"/"+k.id)
}

// deleteToken deletes the token of k, and checks all records.
func (r isolatedRecords) deleteToken(t *testing.T, s engine.Store, k tenantKey) {
	t.Helper()
	if err := s.DeleteInitialAccessToken(t.Context(), k.tenant, k.id); err != nil {
		t.Fatalf("DeleteInitialAccessToken(%s/%s): %v", k.tenant, k.id, err)
	}
	delete(r.tokens, k)
	r.checkAll(t, s, "after deleting token "+k.tenant+"/"+k.id)
}
