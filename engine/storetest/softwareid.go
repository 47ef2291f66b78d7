package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// unique is CreateOptions that keep software_ids unique.
var unique = engine.CreateOptions{UniqueSoftwareID: true}

// softwareClient returns a client of tenant with a software_id.
func softwareClient(tenant, id, sid string) *engine.Client {
	c := newClient(tenant, id)
	c.Metadata.SoftwareID = sid
	return c
}

// testSoftwareIDUnique checks CreateOptions.UniqueSoftwareID: a second
// live client with the software_id is refused, writing nothing and
// consuming no token use; the client itself may be replaced; other
// software_ids, clients without one, other tenants and creates without
// the option are not concerned.
func testSoftwareIDUnique(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant, other := newTenant(), newTenant()
	tok := newToken(tenant, engine.HashToken("sw"), 0)
	mustCreateToken(t, s, tok)
	// A software_id with characters that a key or a script could trip on.
	const sid = "app {x}:1 * é"

	for _, tc := range []struct {
		name string
		c    *engine.Client
		opts engine.CreateOptions
		want error
	}{
		{"first", softwareClient(tenant, "a", sid), engine.CreateOptions{}, nil},
		{"second, unique", softwareClient(tenant, "b", sid), unique, engine.ErrSoftwareIDTaken},
		{"second, unique, with a token", func() *engine.Client {
			c := softwareClient(tenant, "b", sid)
			c.IssuedBy = tok.ID
			return c
		}(), unique, engine.ErrSoftwareIDTaken},
		{"second, unique, replace of an absent ID", softwareClient(tenant, "b", sid), engine.CreateOptions{Replace: true, UniqueSoftwareID: true}, engine.ErrSoftwareIDTaken},
		{"the holder replaced", softwareClient(tenant, "a", sid), engine.CreateOptions{Replace: true, UniqueSoftwareID: true}, nil},
		{"ID before software_id", softwareClient(tenant, "a", sid), unique, engine.ErrAlreadyExists},
		{"software_id before quota", softwareClient(tenant, "b", sid), engine.CreateOptions{UniqueSoftwareID: true, MaxClients: 1}, engine.ErrSoftwareIDTaken},
		{"another software_id", softwareClient(tenant, "c", sid+"2"), unique, nil},
		{"a prefix of it", softwareClient(tenant, "d", "app"), unique, nil},
		{"no software_id", newClient(tenant, "e"), unique, nil},
		{"another tenant", softwareClient(other, "b", sid), unique, nil},
		{"second, allowed", softwareClient(tenant, "f", sid), engine.CreateOptions{}, nil},
		{"third, unique", softwareClient(tenant, "g", sid), unique, engine.ErrSoftwareIDTaken},
	} {
		err := s.CreateClient(ctx, tc.c, tc.opts)
		if tc.want == nil {
			if err != nil {
				t.Fatalf("%s: CreateClient: %v", tc.name, err)
			}
			checkClient(t, tc.name, mustClient(t, s, tc.c.Tenant, tc.c.ID), tc.c)
			continue
		}
		checkErr(t, tc.name, err, tc.want)
		if tc.want == engine.ErrSoftwareIDTaken {
			checkNoClient(t, s, tc.c.Tenant, tc.c.ID)
		}
	}
	checkUses(t, s, tenant, tok.ID, 0)
	checkSoftwareIDs(t, s, tenant, sid, "a", "f")
	checkSoftwareIDs(t, s, other, sid, "b")
	checkSoftwareIDs(t, s, tenant, "app", "d")
	checkSoftwareIDs(t, s, tenant, "nobody")
}

// checkSoftwareIDs checks the clients that the SoftwareID filter lists.
func checkSoftwareIDs(t *testing.T, s engine.Store, tenant, sid string, want ...string) {
	t.Helper()
	for _, limit := range []int{1, 10} {
		got := listFiltered(t, s, tenant, engine.ClientFilter{SoftwareID: sid}, limit)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Clients with software_id %q (limit %d) = %q, want %q", sid, limit, got, want)
		}
	}
}

// testSoftwareIDChanges checks that the software_id lookup follows updates
// and deletes: a client that no longer has the software_id, or no longer
// exists, neither is listed under it nor holds it.
func testSoftwareIDChanges(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	mustCreateClient(t, s, softwareClient(tenant, "a", "one"))
	mustCreateClient(t, s, softwareClient(tenant, "b", "two"))
	mustCreateClient(t, s, softwareClient(tenant, "c", "two"))
	checkSoftwareIDs(t, s, tenant, "two", "b", "c")
	// The filter combines with the others.
	checkFiltered(t, s, tenant, engine.ClientFilter{SoftwareID: "two", IssuedBy: "nobody"})

	if _, err := s.UpdateClient(ctx, tenant, "a", func(c *engine.Client) error {
		c.Metadata.SoftwareID = "three"
		return nil
	}); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	checkSoftwareIDs(t, s, tenant, "one")
	checkSoftwareIDs(t, s, tenant, "three", "a")
	if err := s.CreateClient(ctx, softwareClient(tenant, "d", "one"), unique); err != nil {
		t.Errorf("CreateClient with a software_id its holder gave up: %v", err)
	}
	checkErr(t, "CreateClient with the new software_id", s.CreateClient(ctx, softwareClient(tenant, "e", "three"), unique), engine.ErrSoftwareIDTaken)

	for _, id := range []string{"b", "c"} {
		checkErr(t, "CreateClient with a held software_id", s.CreateClient(ctx, softwareClient(tenant, "e", "two"), unique), engine.ErrSoftwareIDTaken)
		if err := s.DeleteClient(ctx, tenant, id); err != nil {
			t.Fatalf("DeleteClient(%s): %v", id, err)
		}
	}
	checkSoftwareIDs(t, s, tenant, "two")
	if err := s.CreateClient(ctx, softwareClient(tenant, "e", "two"), unique); err != nil {
		t.Errorf("CreateClient with the software_id of deleted clients: %v", err)
	}
	checkSoftwareIDs(t, s, tenant, "two", "e")
}

// checkFiltered checks the IDs a filter lists.
func checkFiltered(t *testing.T, s engine.Store, tenant string, f engine.ClientFilter, want ...string) {
	t.Helper()
	if got := listFiltered(t, s, tenant, f, 10); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("Clients(%+v) = %q, want %q", f, got, want)
	}
}

// testSoftwareIDExpiry checks that an expired client neither holds its
// software_id nor is listed under it, without any read of it first.
func testSoftwareIDExpiry(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	soon := now().Add(300 * time.Millisecond)
	for _, id := range []string{"a", "z-sentinel"} {
		c := softwareClient(tenant, id, "sw-"+id)
		c.ExpiresAt = soon
		mustCreateClient(t, s, c)
	}
	eventually(t, "the sentinel expires", clientGone(t, s, tenant, "z-sentinel", "Client(z-sentinel): %v"))
	if err := s.CreateClient(ctx, softwareClient(tenant, "b", "sw-a"), unique); err != nil {
		t.Errorf("CreateClient with the software_id of an expired client: %v", err)
	}
	checkSoftwareIDs(t, s, tenant, "sw-a", "b")
}

// testConcurrentSoftwareID creates many clients with one software_id at
// once, each under its own ID: exactly one is created.
func testConcurrentSoftwareID(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateClient(ctx, softwareClient(tenant, fmt.Sprintf("c-%03d", i), "hammered"), unique)
		}()
	}
	wg.Wait()
	var created []string
	for i, err := range errs {
		switch {
		case err == nil:
			created = append(created, fmt.Sprintf("c-%03d", i))
		case !checkErr(t, "concurrent CreateClient", err, engine.ErrSoftwareIDTaken):
		}
	}
	if len(created) != 1 {
		t.Fatalf("%d of %d concurrent creates with one software_id succeeded (%q), want 1", len(created), n, created)
	}
	checkSoftwareIDs(t, s, tenant, "hammered", created...)
	if got := listIDs(t, s, tenant, 100); !slices.Equal(got, created) {
		t.Errorf("Clients = %q, want %q", got, created)
	}
}
