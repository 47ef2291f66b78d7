package storetest

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// testAlreadyExpired writes records whose expiry has passed: they are
// absent at once, and do not hold on to their IDs.
func testAlreadyExpired(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	past := now().Add(-time.Minute)

	c := newClient(tenant, "expired")
	c.ExpiresAt = past
	if err := s.CreateClient(ctx, c, engine.CreateOptions{}); err != nil {
		t.Fatalf("CreateClient of an expired client: %v", err)
	}
	tok := newToken(tenant, "expired", 0)
	tok.ExpiresAt = past
	if err := s.CreateInitialAccessToken(ctx, tok); err != nil {
		t.Fatalf("CreateInitialAccessToken of an expired token: %v", err)
	}
	// Listed first: a read of the client might remove it.
	if ids := listIDs(t, s, tenant, 10); len(ids) != 0 {
		t.Errorf("Clients = %q, want none", ids)
	}
	checkExpired(t, s, tenant, "expired", "expired")

	live := newClient(tenant, "expired")
	mustCreateClient(t, s, live)
	checkClient(t, "Client created over an expired one", mustClient(t, s, tenant, "expired"), live)
	liveTok := newToken(tenant, "expired", 0)
	mustCreateToken(t, s, liveTok)
	checkToken(t, "token created over an expired one", mustToken(t, s, tenant, "expired"), liveTok)

	// An update that moves the expiry into the past removes the client.
	if _, err := s.UpdateClient(ctx, tenant, "expired", func(c *engine.Client) error {
		c.ExpiresAt = past
		return nil
	}); err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	checkNoClient(t, s, tenant, "expired")
}

// testExpiry checks that records disappear when their expiry passes, and
// that records without one, or with a later one, stay.
func testExpiry(t *testing.T, s engine.Store) {
	tenant := newTenant()
	const ttl = 500 * time.Millisecond
	start := time.Now()
	// quick reports whether the test is still well before the expiry, so
	// that it can check what must hold before it.
	quick := func() bool { return time.Since(start) < ttl/2 }
	soon, later := now().Add(ttl), now().Add(time.Hour)

	expiring := []string{"a-expiring", "c-expiring", "e-expiring", "g-shortened"}
	staying := createExpiryClients(t, s, tenant, expiring, soon, later)
	changeExpiries(t, s, tenant, staying, soon, quick)

	tok := newToken(tenant, "expiring", 0)
	tok.ExpiresAt = soon
	mustCreateToken(t, s, tok)
	forever := newToken(tenant, "forever", 0)
	mustCreateToken(t, s, forever)
	checkBeforeExpiry(t, s, tenant, tok.ID, expiring, staying, quick)

	// Wait for one record, and only one, so that the others are first seen
	// by the methods checked below: a read of an expired record might remove
	// it, and the listing must not need that. All share one expiry.
	eventually(t, "expiring records disappear", clientGone(t, s, tenant, expiring[0], "Client("+expiring[0]+"): %v"))
	checkAfterExpiry(t, s, tenant, tok.ID, expiring, staying)
	checkToken(t, "token without expiry", mustToken(t, s, tenant, forever.ID), forever)

	// Expired records do not hold on to their IDs.
	reborn := newClient(tenant, "a-expiring")
	mustCreateClient(t, s, reborn)
	checkClient(t, "Client created over an expired one", mustClient(t, s, tenant, "a-expiring"), reborn)
	successor := newToken(tenant, "expiring", 0)
	mustCreateToken(t, s, successor)
	checkToken(t, "token created over an expired one", mustToken(t, s, tenant, "expiring"), successor)
}

// createExpiryClients creates the clients of testExpiry: those in expiring
// at soon, except "g-shortened" at later until changeExpiries shortens it;
// "b-forever" without an expiry, "d-later" at later, "f-cleared" at soon
// until changeExpiries clears it. It returns the clients expected to
// stay, by ID.
func createExpiryClients(t *testing.T, s engine.Store, tenant string, expiring []string, soon, later time.Time) map[string]*engine.Client {
	t.Helper()
	staying := map[string]*engine.Client{}
	for _, id := range []string{"a-expiring", "b-forever", "c-expiring", "d-later", "e-expiring", "f-cleared", "g-shortened"} {
		c := newClient(tenant, id)
		switch id {
		case "d-later", "g-shortened":
			c.ExpiresAt = later
		case "b-forever":
		default:
			c.ExpiresAt = soon
		}
		mustCreateClient(t, s, c)
		staying[id] = c
	}
	for _, id := range expiring {
		delete(staying, id)
	}
	return staying
}

// setExpiry sets the expiry of the client id to expiresAt.
func setExpiry(t *testing.T, s engine.Store, tenant, id string, expiresAt time.Time) error {
	_, err := s.UpdateClient(t.Context(), tenant, id, func(c *engine.Client) error {
		c.ExpiresAt = expiresAt
		return nil
	})
	return err
}

// changeExpiries shortens the expiry of "g-shortened" to soon and clears
// that of "f-cleared", which the test drops from staying if it was too slow
// to clear it in time.
func changeExpiries(t *testing.T, s engine.Store, tenant string, staying map[string]*engine.Client, soon time.Time, quick func() bool) {
	t.Helper()
	if err := setExpiry(t, s, tenant, "g-shortened", soon); err != nil {
		t.Fatalf("UpdateClient(g-shortened): %v", err)
	}
	if err := setExpiry(t, s, tenant, "f-cleared", time.Time{}); errors.Is(err, engine.ErrNotFound) && !quick() {
		t.Logf("the test was too slow to clear the expiry of f-cleared in time")
		delete(staying, "f-cleared")
	} else if err != nil {
		t.Fatalf("UpdateClient(f-cleared): %v", err)
	} else {
		staying["f-cleared"].ExpiresAt = time.Time{}
	}
}

// checkBeforeExpiry uses the expiring token tokenID, to check later that
// its successor does not inherit the count, and checks that the expiring
// clients and the use are there; each step only while the test is quick.
func checkBeforeExpiry(t *testing.T, s engine.Store, tenant, tokenID string, expiring []string, staying map[string]*engine.Client, quick func() bool) {
	t.Helper()
	var uses int64
	if quick() {
		issued := issuedClient(tenant, "d2-issued", tokenID)
		if err := s.CreateClient(t.Context(), issued, engine.CreateOptions{}); err != nil {
			t.Fatalf("CreateClient with a live token: %v", err)
		}
		staying[issued.ID] = issued
		uses = 1
	}
	if quick() {
		for _, id := range expiring {
			mustClient(t, s, tenant, id)
		}
		checkUses(t, s, tenant, tokenID, uses)
	} else {
		t.Logf("the test was too slow to check the records before they expire")
	}
}

// checkAfterExpiry checks that the expiring clients and the token tokenID
// are gone, listed or read, and that the staying clients are intact.
func checkAfterExpiry(t *testing.T, s engine.Store, tenant, tokenID string, expiring []string, staying map[string]*engine.Client) {
	t.Helper()
	// The last page ends at the last live client, even though expired ones
	// ("g-shortened") follow it.
	want := slices.Sorted(maps.Keys(staying))
	checkListed(t, s, tenant, []int{1, 2, len(want), 10}, "after the expiry", want)
	for _, id := range expiring {
		checkExpired(t, s, tenant, id, "")
	}
	checkExpired(t, s, tenant, "", tokenID)
	for id, c := range staying {
		checkClient(t, "Client("+id+") after the expiry", mustClient(t, s, tenant, id), c)
	}
}

// checkExpired checks that the client clientID and the token tokenID (each
// unless empty) are absent to every method.
func checkExpired(t *testing.T, s engine.Store, tenant, clientID, tokenID string) {
	t.Helper()
	ctx := t.Context()
	if clientID != "" {
		checkNoClient(t, s, tenant, clientID)
		_, err := s.UpdateClient(ctx, tenant, clientID, func(*engine.Client) error {
			t.Errorf("UpdateClient(%s) called fn for an expired client", clientID)
			return nil
		})
		checkErr(t, "UpdateClient of an expired client", err, engine.ErrNotFound)
		checkErr(t, "DeleteClient of an expired client", s.DeleteClient(ctx, tenant, clientID), engine.ErrNotFound)
	}
	if tokenID != "" {
		tok, err := s.InitialAccessToken(ctx, tenant, tokenID)
		if !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("InitialAccessToken of an expired token = %v, %v; want ErrNotFound", tok, err)
		}
		checkErr(t, "DeleteInitialAccessToken of an expired token",
			s.DeleteInitialAccessToken(ctx, tenant, tokenID), engine.ErrNotFound)
		err = s.CreateClient(ctx, issuedClient(tenant, "issued-by-expired", tokenID), engine.CreateOptions{})
		checkErr(t, "CreateClient with an expired token", err, engine.ErrNotFound)
		checkNoClient(t, s, tenant, "issued-by-expired")
	}
}

// eventually waits for cond to hold, polling it for up to ten seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	const wait = 10 * time.Second
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %v", what, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
