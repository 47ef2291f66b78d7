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
	tenant := newTenant()
	const ttl = 500 * time.Millisecond
	start := time.Now()
	soon, later := now().Add(ttl), now().Add(time.Hour)
	w := expiryWriter{t: t, s: s, tenant: tenant}

	w.create("a-live", time.Time{}, false)
	// The clients kept by a later write are written first, each with an
	// expiry of its own, so that the write that keeps them comes well
	// within the TTL even on a loaded machine.
	w.create("c-kept-by-replace", now().Add(ttl), false)
	w.create("c-kept-by-replace", time.Time{}, true)
	w.create("d-kept-by-update", now().Add(ttl), false)
	w.update("d-kept-by-update", time.Time{})
	for i := range 30 {
		w.create(fmt.Sprintf("m-expiring-%02d", i), soon, false)
	}
	w.create("z-live", later, false)
	w.create("n-dropped-by-replace", time.Time{}, false)
	w.create("n-dropped-by-replace", soon, true)
	w.create("o-dropped-by-update", later, false)
	w.update("o-dropped-by-update", soon)
	if time.Since(start) > ttl/2 {
		t.Logf("the test was slow: the expiring clients may have expired while it wrote them")
	}

	eventually(t, "expiring clients disappear", clientGone(t, s, tenant, "n-dropped-by-replace", "Client: %v"))
	checkListed(t, s, tenant, []int{1, 2, 3, 4, 50}, "after the expiry",
		[]string{"a-live", "c-kept-by-replace", "d-kept-by-update", "z-live"})
	checkPagesSkipExpired(t, s, tenant)

	// Registered again, an expired ID is listed once.
	w.create("m-expiring-07", time.Time{}, false)
	w.create("o-dropped-by-update", later, false)
	checkListed(t, s, tenant, []int{1, 4, 50}, "after registering expired IDs again",
		[]string{"a-live", "c-kept-by-replace", "d-kept-by-update", "m-expiring-07", "o-dropped-by-update", "z-live"})
}

// expiryWriter creates and updates the clients of one tenant with a given
// expiry, failing the test on an error.
type expiryWriter struct {
	t      *testing.T
	s      engine.Store
	tenant string
}

// create creates the client id expiring at expiresAt, replacing one that
// exists if replace is set.
func (w expiryWriter) create(id string, expiresAt time.Time, replace bool) {
	w.t.Helper()
	c := newClient(w.tenant, id)
	c.ExpiresAt = expiresAt
	if err := w.s.CreateClient(w.t.Context(), c, engine.CreateOptions{Replace: replace}); err != nil {
		w.t.Fatalf("CreateClient(%s): %v", id, err)
	}
}

// update sets the expiry of the client id to expiresAt.
func (w expiryWriter) update(id string, expiresAt time.Time) {
	w.t.Helper()
	if err := setExpiry(w.t, w.s, w.tenant, id, expiresAt); err != nil {
		w.t.Fatalf("UpdateClient(%s): %v", id, err)
	}
}

// clientGone returns a condition for eventually that holds once the client
// id is not found; any other error fails the test with failFormat, which
// takes the error.
func clientGone(t *testing.T, s engine.Store, tenant, id, failFormat string) func() bool {
	return func() bool {
		_, err := s.Client(t.Context(), tenant, id)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf(failFormat, err)
		}
		return err != nil
	}
}

// checkListed checks that the tenant's clients, listed with each of the
// page limits, are want.
func checkListed(t *testing.T, s engine.Store, tenant string, limits []int, when string, want []string) {
	t.Helper()
	for _, limit := range limits {
		if got := listIDs(t, s, tenant, limit); !slices.Equal(got, want) {
			t.Errorf("Clients with limit %d %s = %q, want %q", limit, when, got, want)
		}
	}
}

// checkPagesSkipExpired checks the pages of testClientsSkipExpired that
// start after a cursor: the next live client fills the page, and a page
// followed only by expired clients has no cursor.
func checkPagesSkipExpired(t *testing.T, s engine.Store, tenant string) {
	t.Helper()
	ctx := t.Context()
	page, next, err := s.Clients(ctx, tenant, engine.ClientFilter{}, "a-live", 1)
	if err != nil || len(page) != 1 || page[0].ID != "c-kept-by-replace" || next != "c-kept-by-replace" {
		t.Errorf("Clients after a-live, limit 1 = %d clients, next %q, %v; want c-kept-by-replace and a cursor", len(page), next, err)
	}
	page, next, err = s.Clients(ctx, tenant, engine.ClientFilter{}, "d-kept-by-update", 1)
	if err != nil || len(page) != 1 || page[0].ID != "z-live" || next != "" {
		t.Errorf("Clients after d-kept-by-update, limit 1 = %d clients, next %q, %v; want z-live and no cursor: only expired clients lie between", len(page), next, err)
	}
}
