package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// hammer runs fn(i) for i in [0, n) in n goroutines released together, and
// waits for them.
func hammer(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// goroutines is how many goroutines a hammer test runs.
func goroutines() int {
	if testing.Short() {
		return 10
	}
	return 50
}

// testConcurrentTokenUses registers many clients at once with one token
// that admits only some of them.
func testConcurrentTokenUses(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	maxUses := int64(n / 5)
	tok := newToken(tenant, engine.HashToken("hammer"), maxUses)
	mustCreateToken(t, s, tok)

	errs := make([]error, n)
	hammer(n, func(i int) {
		errs[i] = s.CreateClient(ctx, issuedClient(tenant, fmt.Sprintf("c%03d", i), tok.ID), engine.CreateOptions{})
	})
	var admitted []string
	for i, err := range errs {
		id := fmt.Sprintf("c%03d", i)
		switch {
		case err == nil:
			admitted = append(admitted, id)
		case errors.Is(err, engine.ErrTokenExhausted):
			checkNoClient(t, s, tenant, id)
		default:
			t.Errorf("CreateClient(%s): %v", id, err)
		}
	}
	if int64(len(admitted)) != maxUses {
		t.Errorf("%d of %d registrations with a token of %d uses succeeded", len(admitted), n, maxUses)
	}
	checkUses(t, s, tenant, tok.ID, maxUses)
	if got := listIDs(t, s, tenant, 100); !slices.Equal(got, admitted) {
		t.Errorf("Clients = %q, want the admitted %q", got, admitted)
	}
}

// testConcurrentUpdates increments a counter kept in the client from many
// goroutines at once: no increment may be lost.
func testConcurrentUpdates(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	c := newClient(tenant, "counter")
	c.Metadata.Extra = map[string]json.RawMessage{"counter": json.RawMessage(`0`)}
	c.RegistrationPolicies = nil
	mustCreateClient(t, s, c)

	counter := func(c *engine.Client) (int, error) {
		return strconv.Atoi(string(c.Metadata.Extra["counter"]))
	}
	results := make([]int, n)
	errs := make([]error, n)
	hammer(n, func(i int) {
		got, err := s.UpdateClient(ctx, tenant, "counter", func(c *engine.Client) error {
			v, err := counter(c)
			if err != nil {
				return err
			}
			c.Metadata.Extra["counter"] = json.RawMessage(strconv.Itoa(v + 1))
			c.RegistrationPolicies = append(c.RegistrationPolicies, fmt.Sprintf("p%d", i))
			return nil
		})
		if err == nil {
			results[i], err = counter(got)
		}
		errs[i] = err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}

	// Each update saw the result of another: they returned 1 to n.
	slices.Sort(results)
	for i, v := range results {
		if v != i+1 {
			t.Errorf("the updates returned counters %v, want 1 to %d", results, n)
			break
		}
	}
	final := mustClient(t, s, tenant, "counter")
	if v, err := counter(final); err != nil || v != n {
		t.Errorf("counter after %d increments = %d, %v", n, v, err)
	}
	if got := len(final.RegistrationPolicies); got != n {
		t.Errorf("%d appends kept %d policies", n, got)
	}
}

// testConcurrentCreate creates one ID from many goroutines at once, each
// with the same unlimited token: exactly one wins and uses the token.
func testConcurrentCreate(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	tok := newToken(tenant, engine.HashToken("hammer"), 0)
	mustCreateToken(t, s, tok)

	clients := make([]*engine.Client, n)
	errs := make([]error, n)
	for i := range clients {
		clients[i] = issuedClient(tenant, "contested", tok.ID)
		clients[i].Metadata.ClientName = fmt.Sprintf("contender %d", i)
	}
	hammer(n, func(i int) {
		errs[i] = s.CreateClient(ctx, clients[i], engine.CreateOptions{})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("contenders %d and %d both created the client", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, engine.ErrAlreadyExists):
			t.Errorf("contender %d: got error %v, want ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no contender created the client")
	}
	checkClient(t, "Client after the contest", mustClient(t, s, tenant, "contested"), clients[winner])
	checkUses(t, s, tenant, tok.ID, 1)
}

// testConcurrentDelete deletes a client and a token from many goroutines at
// once: each is deleted exactly once.
func testConcurrentDelete(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	mustCreateClient(t, s, newClient(tenant, "doomed"))
	mustCreateToken(t, s, newToken(tenant, "doomed", 0))

	for _, tc := range []struct {
		name   string
		delete func() error
	}{
		{"DeleteClient", func() error { return s.DeleteClient(ctx, tenant, "doomed") }},
		{"DeleteInitialAccessToken", func() error { return s.DeleteInitialAccessToken(ctx, tenant, "doomed") }},
	} {
		errs := make([]error, n)
		hammer(n, func(i int) { errs[i] = tc.delete() })
		deleted := 0
		for i, err := range errs {
			switch {
			case err == nil:
				deleted++
			case !errors.Is(err, engine.ErrNotFound):
				t.Errorf("%s %d: got error %v, want ErrNotFound", tc.name, i, err)
			}
		}
		if deleted != 1 {
			t.Errorf("%s: %d of %d calls deleted, want 1", tc.name, deleted, n)
		}
	}
}
