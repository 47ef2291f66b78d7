package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// testCreateMarks checks CreateOptions.Marks, for a store that is also a
// replay cache: a create sets its marks with its write; one that finds a
// mark live fails with a ReplayedError naming it and writes nothing (no
// client, no token use, none of its other marks); an expired mark is no
// mark; the existing ID is checked first; and of concurrent creates
// spending one mark exactly one is made.
func testCreateMarks(t *testing.T, s engine.Store) {
	replay, ok := s.(engine.ReplayCache)
	if !ok {
		t.Skip("the store is not a replay cache")
	}
	ctx := t.Context()
	tenant := newTenant()
	hour := now().Add(time.Hour)
	mark := func(key string) engine.Mark { return engine.Mark{Key: key, Until: hour} }

	if err := s.CreateClient(ctx, newClient(tenant, "first"), engine.CreateOptions{Marks: []engine.Mark{mark("a"), mark("b")}}); err != nil {
		t.Fatalf("CreateClient with fresh marks: %v", err)
	}
	for _, key := range []string{"a", "b"} {
		if fresh, err := replay.Mark(ctx, tenant, key, hour); err != nil || fresh {
			t.Errorf("Mark(%q) after a create that spent it: fresh %v, err %v; want false, nil", key, fresh, err)
		}
	}

	tok := newToken(tenant, "tok", 5)
	mustCreateToken(t, s, tok)
	second := newClient(tenant, "second")
	second.IssuedBy = tok.ID
	err := s.CreateClient(ctx, second, engine.CreateOptions{Marks: []engine.Mark{mark("c"), mark("b")}})
	var re *engine.ReplayedError
	if !checkErr(t, "CreateClient with a live mark", err, engine.ErrReplayed) || !errors.As(err, &re) || re.Key != "b" {
		t.Errorf("CreateClient with a live mark b: %v, want a ReplayedError naming b", err)
	}
	if _, err := s.Client(ctx, tenant, "second"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Client after a create refused for its mark: %v, want ErrNotFound", err)
	}
	if got, err := s.InitialAccessToken(ctx, tenant, tok.ID); err != nil || got.Uses != 0 {
		t.Errorf("token after a create refused for its mark: %+v, %v; want 0 uses", got, err)
	}
	if fresh, err := replay.Mark(ctx, tenant, "c", hour); err != nil || !fresh {
		t.Errorf("Mark(c) after a refused create that named it: fresh %v, err %v; want true (not set)", fresh, err)
	}

	checkErr(t, "CreateClient of a live ID with a live mark",
		s.CreateClient(ctx, newClient(tenant, "first"), engine.CreateOptions{Marks: []engine.Mark{mark("a")}}), engine.ErrAlreadyExists)

	past := engine.Mark{Key: "old", Until: now().Add(-time.Second)}
	for _, id := range []string{"old-1", "old-2"} {
		if err := s.CreateClient(ctx, newClient(tenant, id), engine.CreateOptions{Marks: []engine.Mark{past}}); err != nil {
			t.Errorf("CreateClient %s with a mark that expires before it is set: %v", id, err)
		}
	}
	if fresh, err := replay.Mark(ctx, "other-"+tenant, "a", hour); err != nil || !fresh {
		t.Errorf("Mark(a) of another tenant: fresh %v, err %v; want true (marks are per tenant)", fresh, err)
	}

	n := goroutines()
	errs := make([]error, n)
	hammer(n, func(i int) {
		errs[i] = s.CreateClient(ctx, newClient(tenant, fmt.Sprintf("race-%d", i)), engine.CreateOptions{Marks: []engine.Mark{mark("race")}})
	})
	made := 0
	for i, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, engine.ErrReplayed):
			t.Errorf("concurrent create %d: %v, want nil or ErrReplayed", i, err)
		}
	}
	if made != 1 {
		t.Errorf("%d of %d concurrent creates spending one mark were made, want 1", made, n)
	}
}
