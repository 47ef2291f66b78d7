package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

func testUpdateClient(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	c := newClient(tenant, "updated")
	mustCreateClient(t, s, c)

	// fn sees the stored client, and each update sees the one before.
	want := c.Clone()
	for i, name := range []string{"first", "second"} {
		calls := 0
		got, err := s.UpdateClient(ctx, tenant, "updated", func(cur *engine.Client) error {
			calls++
			checkClient(t, "client given to fn", cur, want)
			cur.Metadata.ClientName = name
			return nil
		})
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if calls == 0 {
			t.Errorf("update %d: fn was not called", i)
		}
		want.Metadata.ClientName = name
		checkClient(t, "UpdateClient result", got, want)
	}

	// What is stored is what fn produced, fields it cleared included: the
	// update replaces the record, it does not merge into it.
	expiresAt := now().Add(time.Hour)
	produce := func(c *engine.Client) {
		c.UpdatedAt = c.UpdatedAt.Add(time.Minute)
		c.ExpiresAt = expiresAt
		c.SecretHash = ""
		c.RegistrationTokenHash = engine.HashToken("rotated")
		c.RegistrationPolicies = nil
		c.Metadata = engine.Metadata{
			RedirectURIs:            []string{"https://other.example/cb"},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code"},
			ResponseTypes:           []string{"code"},
			ApplicationType:         "native",
		}
	}
	got, err := s.UpdateClient(ctx, tenant, "updated", func(c *engine.Client) error {
		produce(c)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	produce(want)
	checkClient(t, "UpdateClient result", got, want)
	checkClient(t, "Client after UpdateClient", mustClient(t, s, tenant, "updated"), want)
}

// abortError is an error of fn that the store must return as is.
type abortError struct{ reason string }

func (e *abortError) Error() string { return "aborted: " + e.reason }

func testUpdateClientError(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	c := newClient(tenant, "kept")
	mustCreateClient(t, s, c)

	abort := &abortError{"the policy says no"}
	oauth := engine.Errorf(engine.CodeInvalidRequest, "the client changed during the update; retry")
	for _, fnErr := range []error{abort, oauth, engine.ErrNotFound} {
		got, err := s.UpdateClient(ctx, tenant, "kept", func(c *engine.Client) error {
			scribbleClient(c) // changes that must be discarded
			return fnErr
		})
		if !errors.Is(err, fnErr) {
			t.Errorf("UpdateClient with fn failing with %v: got error %v", fnErr, err)
		}
		if err == nil {
			t.Errorf("UpdateClient with fn failing with %v returned %v and no error", fnErr, got)
		}
		checkClient(t, "Client after a failed UpdateClient", mustClient(t, s, tenant, "kept"), c)
	}

	_, err := s.UpdateClient(ctx, tenant, "kept", func(*engine.Client) error { return abort })
	var ae *abortError
	if !errors.As(err, &ae) || ae != abort {
		t.Errorf("UpdateClient error %v: errors.As gives %v, want the error fn returned", err, ae)
	}
	_, err = s.UpdateClient(ctx, tenant, "kept", func(*engine.Client) error { return oauth })
	var oe *engine.Error
	if !errors.As(err, &oe) || oe != oauth {
		t.Errorf("UpdateClient error %v: errors.As gives %v, want the *engine.Error fn returned", err, oe)
	}
}
