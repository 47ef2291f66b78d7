package storetest

import (
	"slices"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

func testClientsPagination(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	// Inserted out of order; listed in byte order ("-" < "." < "0" < "A" <
	// "Z" < "_" < "a" < "z" < "~").
	ids := []string{"m", "~", "A", "0", "_", "z", "-", "a", "Z", ".x", "mm", "Am"}
	clients := map[string]*engine.Client{}
	for _, id := range ids {
		c := newClient(tenant, id)
		mustCreateClient(t, s, c)
		clients[id] = c
	}
	// Neighbours whose clients must not show up.
	for _, neighbour := range []string{tenant + "b", tenant + "-b"} {
		for _, id := range []string{"0", "m", "n"} {
			mustCreateClient(t, s, newClient(neighbour, id))
		}
	}
	want := slices.Sorted(slices.Values(ids))

	for limit := 1; limit <= len(ids)+1; limit++ {
		if got := listIDs(t, s, tenant, limit); !slices.Equal(got, want) {
			t.Errorf("Clients with limit %d: %q, want %q", limit, got, want)
		}
	}

	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", len(ids))
	if err != nil {
		t.Fatalf("Clients: %v", err)
	}
	if next != "" {
		t.Errorf("Clients of all clients: next = %q, want empty", next)
	}
	for _, c := range page {
		if want, ok := clients[c.ID]; ok {
			checkClient(t, "Clients entry "+c.ID, c, want)
		}
	}

	if err := s.DeleteClient(ctx, tenant, "m"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	want = slices.DeleteFunc(want, func(id string) bool { return id == "m" })
	if got := listIDs(t, s, tenant, 3); !slices.Equal(got, want) {
		t.Errorf("Clients after deleting m: %q, want %q", got, want)
	}
}

// testClientsCursor checks that a page starts after the ID it is given,
// whether or not a client has it.
func testClientsCursor(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	for _, id := range []string{"e", "a", "g", "c"} {
		mustCreateClient(t, s, newClient(tenant, id))
	}
	for _, tc := range []struct {
		after    string
		limit    int
		want     []string
		wantNext bool
	}{
		{"", 2, []string{"a", "c"}, true},
		{"a", 2, []string{"c", "e"}, true},
		{"b", 2, []string{"c", "e"}, true},
		{"e", 2, []string{"g"}, false},
		{"f", 1, []string{"g"}, false},
		{"A", 10, []string{"a", "c", "e", "g"}, false},
		{"", 4, []string{"a", "c", "e", "g"}, false}, // a full last page
		{"c", 2, []string{"e", "g"}, false},
		{"g", 2, nil, false},
		{"~", 2, nil, false},
	} {
		page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, tc.after, tc.limit)
		if err != nil {
			t.Fatalf("Clients(%q, %d): %v", tc.after, tc.limit, err)
		}
		var got []string
		for _, c := range page {
			got = append(got, c.ID)
		}
		if !slices.Equal(got, tc.want) || (next != "") != tc.wantNext {
			t.Errorf("Clients(%q, %d) = %q, next %q; want %q, next empty: %t", tc.after, tc.limit, got, next, tc.want, !tc.wantNext)
		}
	}

	// The cursor still works when the client it was taken from is gone.
	_, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "", 2)
	if err != nil || next == "" {
		t.Fatalf("Clients = next %q, %v; want a cursor", next, err)
	}
	if err := s.DeleteClient(ctx, tenant, "c"); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, next, 2)
	if err != nil || len(page) != 2 || page[0].ID != "e" || page[1].ID != "g" || next != "" {
		t.Errorf("Clients after deleting the cursor's client = %d clients, next %q, %v; want e, g", len(page), next, err)
	}
}
