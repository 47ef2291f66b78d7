package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

func testTokenCRUD(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	id := engine.HashToken("crud")
	want := newToken(tenant, id, 3)
	want.ExpiresAt = now().Add(time.Hour)
	want.Replacement = true
	want.SoftwareStatementRequired = true
	mustCreateToken(t, s, want.Clone())
	checkToken(t, "InitialAccessToken after CreateInitialAccessToken", mustToken(t, s, tenant, id), want)

	dup := newToken(tenant, id, 0)
	checkErr(t, "CreateInitialAccessToken of a live ID", s.CreateInitialAccessToken(ctx, dup), engine.ErrAlreadyExists)
	checkToken(t, "InitialAccessToken after a refused create", mustToken(t, s, tenant, id), want)

	if err := s.DeleteInitialAccessToken(ctx, tenant, id); err != nil {
		t.Fatalf("DeleteInitialAccessToken: %v", err)
	}
	tok, err := s.InitialAccessToken(ctx, tenant, id)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("InitialAccessToken after delete = %v, %v; want ErrNotFound", tok, err)
	}
	checkErr(t, "DeleteInitialAccessToken after delete", s.DeleteInitialAccessToken(ctx, tenant, id), engine.ErrNotFound)

	// The ID is free again; this token never expires.
	mustCreateToken(t, s, dup)
	checkToken(t, "InitialAccessToken after creating a deleted ID again", mustToken(t, s, tenant, id), dup)
}

func testTokenCopies(t *testing.T, s engine.Store) {
	tenant := newTenant()
	tok := newToken(tenant, "copies", 5)
	tok.ExpiresAt = now().Add(time.Hour)
	want := tok.Clone()
	mustCreateToken(t, s, tok)
	checkToken(t, "argument of CreateInitialAccessToken after the call", tok, want)
	scribbleToken(tok)
	checkToken(t, "token after changing the argument of CreateInitialAccessToken", mustToken(t, s, tenant, "copies"), want)
	scribbleToken(mustToken(t, s, tenant, "copies"))
	checkToken(t, "token after changing what InitialAccessToken returned", mustToken(t, s, tenant, "copies"), want)
}

// issuedClient returns a client registered with the token tokenID.
func issuedClient(tenant, id, tokenID string) *engine.Client {
	c := newClient(tenant, id)
	c.IssuedBy = tokenID
	return c
}

// testTokenConsumption checks that CreateClient uses up initial access
// tokens, and refuses a client whose token is missing or used up.
func testTokenConsumption(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()

	limited := newToken(tenant, engine.HashToken("limited"), 2)
	limited.ExpiresAt = now().Add(time.Hour)
	mustCreateToken(t, s, limited)
	for i, id := range []string{"limited-1", "limited-2"} {
		mustCreateClient(t, s, issuedClient(tenant, id, limited.ID))
		checkUses(t, s, tenant, limited.ID, int64(i+1))
	}
	err := s.CreateClient(ctx, issuedClient(tenant, "limited-3", limited.ID), engine.CreateOptions{})
	checkErr(t, "CreateClient with a used-up token", err, engine.ErrTokenExhausted)
	checkNoClient(t, s, tenant, "limited-3")
	// Consuming uses changes nothing else.
	want := limited.Clone()
	want.Uses = 2
	got := mustToken(t, s, tenant, limited.ID)
	checkToken(t, "used-up token", got, want)
	if !got.Exhausted() {
		t.Errorf("used-up token: Exhausted() = false")
	}

	// MaxUses 0 is no bound.
	unlimited := newToken(tenant, engine.HashToken("unlimited"), 0)
	mustCreateToken(t, s, unlimited)
	const n = 5
	for i := range n {
		mustCreateClient(t, s, issuedClient(tenant, fmt.Sprintf("unlimited-%d", i), unlimited.ID))
	}
	checkUses(t, s, tenant, unlimited.ID, n)

	// A missing, revoked or foreign token admits no one.
	if err := s.DeleteInitialAccessToken(ctx, tenant, unlimited.ID); err != nil {
		t.Fatalf("DeleteInitialAccessToken: %v", err)
	}
	other := newTenant()
	foreign := newToken(other, engine.HashToken("foreign"), 0)
	mustCreateToken(t, s, foreign)
	for _, tc := range []struct{ name, tokenID string }{
		{"missing", engine.HashToken("missing")},
		{"revoked", unlimited.ID},
		{"foreign", foreign.ID},
	} {
		err := s.CreateClient(ctx, issuedClient(tenant, tc.name, tc.tokenID), engine.CreateOptions{})
		checkErr(t, "CreateClient with a "+tc.name+" token", err, engine.ErrNotFound)
		checkNoClient(t, s, tenant, tc.name)
	}
	checkUses(t, s, other, foreign.ID, 0)
}

// testTokenConsumptionAtomic checks that the use of a token and the write
// of the client happen together or not at all.
func testTokenConsumptionAtomic(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	tok := newToken(tenant, engine.HashToken("token"), 0)
	mustCreateToken(t, s, tok)
	existing := newClient(tenant, "existing")
	mustCreateClient(t, s, existing)

	// A create refused for its ID uses nothing.
	intruder := issuedClient(tenant, "existing", tok.ID)
	intruder.Metadata.ClientName = "intruder"
	checkErr(t, "CreateClient of a live ID with a token", s.CreateClient(ctx, intruder, engine.CreateOptions{}), engine.ErrAlreadyExists)
	checkUses(t, s, tenant, tok.ID, 0)
	checkClient(t, "Client after a refused create", mustClient(t, s, tenant, "existing"), existing)

	// A replacement uses the token.
	if err := s.CreateClient(ctx, intruder, engine.CreateOptions{Replace: true}); err != nil {
		t.Fatalf("CreateClient with replace and a token: %v", err)
	}
	checkUses(t, s, tenant, tok.ID, 1)
	checkClient(t, "Client after a replacement", mustClient(t, s, tenant, "existing"), intruder)

	// A replacement refused for its token replaces nothing.
	spent := newToken(tenant, engine.HashToken("spent"), 1)
	mustCreateToken(t, s, spent)
	mustCreateClient(t, s, issuedClient(tenant, "spender", spent.ID))
	for _, tc := range []struct {
		tokenID string
		want    error
	}{
		{spent.ID, engine.ErrTokenExhausted},
		{engine.HashToken("missing"), engine.ErrNotFound},
	} {
		r := issuedClient(tenant, "existing", tc.tokenID)
		r.Metadata.ClientName = "replacement"
		checkErr(t, "CreateClient with replace and a bad token", s.CreateClient(ctx, r, engine.CreateOptions{Replace: true}), tc.want)
		checkClient(t, "Client after a refused replacement", mustClient(t, s, tenant, "existing"), intruder)
	}
	checkUses(t, s, tenant, spent.ID, 1)
}
