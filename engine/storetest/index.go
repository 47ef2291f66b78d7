package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// testClientsSkipExpired checks that listings agree with expiry however it
// came about: many expired clients between live ones never shorten a page
// or show up in one; an expiry cleared by an update or a replacement keeps
// the client listed; one set by them drops it; and an expired ID registered
// again is listed once.
func testClientsSkipExpired(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	const ttl = 500 * time.Millisecond
	start := time.Now()
	soon, later := now().Add(ttl), now().Add(time.Hour)

	create := func(id string, expiresAt time.Time, replace bool) {
		t.Helper()
		c := newClient(tenant, id)
		c.ExpiresAt = expiresAt
		if err := s.CreateClient(ctx, c, engine.CreateOptions{Replace: replace}); err != nil {
			t.Fatalf("CreateClient(%s): %v", id, err)
		}
	}
	update := func(id string, expiresAt time.Time) {
		t.Helper()
		if _, err := s.UpdateClient(ctx, tenant, id, func(c *engine.Client) error {
			c.ExpiresAt = expiresAt
			return nil
		}); err != nil {
			t.Fatalf("UpdateClient(%s): %v", id, err)
		}
	}
	create("a-live", time.Time{}, false)
	for i := range 30 {
		create(fmt.Sprintf("m-expiring-%02d", i), soon, false)
	}
	create("z-live", later, false)
	create("c-kept-by-replace", soon, false)
	create("c-kept-by-replace", time.Time{}, true)
	create("d-kept-by-update", soon, false)
	update("d-kept-by-update", time.Time{})
	create("n-dropped-by-replace", time.Time{}, false)
	create("n-dropped-by-replace", soon, true)
	create("o-dropped-by-update", later, false)
	update("o-dropped-by-update", soon)
	if time.Since(start) > ttl/2 {
		t.Logf("the test was slow: the expiring clients may have expired while it wrote them")
	}

	eventually(t, "expiring clients disappear", func() bool {
		_, err := s.Client(ctx, tenant, "n-dropped-by-replace")
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("Client: %v", err)
		}
		return err != nil
	})
	want := []string{"a-live", "c-kept-by-replace", "d-kept-by-update", "z-live"}
	for _, limit := range []int{1, 2, 3, 4, 50} {
		if got := listIDs(t, s, tenant, limit); !slices.Equal(got, want) {
			t.Errorf("Clients with limit %d after the expiry = %q, want %q", limit, got, want)
		}
	}
	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "a-live", 1)
	if err != nil || len(page) != 1 || page[0].ID != "c-kept-by-replace" || next != "c-kept-by-replace" {
		t.Errorf("Clients after a-live, limit 1 = %d clients, next %q, %v; want c-kept-by-replace and a cursor", len(page), next, err)
	}
	page, next, err = s.Clients(ctx, tenant, engine.ClientFilter{}, "d-kept-by-update", 1)
	if err != nil || len(page) != 1 || page[0].ID != "z-live" || next != "" {
		t.Errorf("Clients after d-kept-by-update, limit 1 = %d clients, next %q, %v; want z-live and no cursor: only expired clients lie between", len(page), next, err)
	}

	// Registered again, an expired ID is listed once.
	create("m-expiring-07", time.Time{}, false)
	create("o-dropped-by-update", later, false)
	want = []string{"a-live", "c-kept-by-replace", "d-kept-by-update", "m-expiring-07", "o-dropped-by-update", "z-live"}
	for _, limit := range []int{1, 4, 50} {
		if got := listIDs(t, s, tenant, limit); !slices.Equal(got, want) {
			t.Errorf("Clients with limit %d after registering expired IDs again = %q, want %q", limit, got, want)
		}
	}
}
