package storetest

import (
	"slices"
	"testing"

	"github.com/registrar-dev/registrar/engine"
)

// changesSince calls TenantChanges and checks that it lists each tenant
// once, in Records or in Gone.
func changesSince(t *testing.T, s engine.Store, since int64) *engine.TenantChanges {
	t.Helper()
	ch, err := s.TenantChanges(t.Context(), since)
	if err != nil {
		t.Fatalf("TenantChanges(%d): %v", since, err)
	}
	seen := map[string]bool{}
	for _, name := range append(changedNames(ch), ch.Gone...) {
		if seen[name] {
			t.Errorf("TenantChanges(%d) lists %q twice", since, name)
		}
		seen[name] = true
	}
	return ch
}

// changedNames returns the names of the records of ch, sorted.
func changedNames(ch *engine.TenantChanges) []string {
	var names []string
	for _, r := range ch.Records {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}

// testTenantChanges: TenantChanges lists the tenants put or deleted since
// a change number, once each, with their current records, and nothing
// when nothing changed.
func testTenantChanges(t *testing.T, s engine.Store) {
	start := changesSince(t, s, -1)
	if len(start.Records)+len(start.Gone) != 0 {
		t.Errorf("TenantChanges(-1) lists tenants: %+v", start)
	}
	mustPutTenant(t, s, newRecord("alpha"), 0)
	mustPutTenant(t, s, newRecord("beta"), 0)
	mustPutTenant(t, s, newRecord("beta"), 0)
	ch := changesSince(t, s, start.Latest)
	if got := changedNames(ch); !slices.Equal(got, []string{"alpha", "beta"}) || len(ch.Gone) != 0 {
		t.Fatalf("after two creates: records %v, gone %v", got, ch.Gone)
	}
	if ch.Latest <= start.Latest {
		t.Errorf("Latest %d did not move past %d", ch.Latest, start.Latest)
	}
	for _, r := range ch.Records {
		want := map[string]int64{"alpha": 1, "beta": 2}[r.Name]
		if r.Revision != want || r.Deleting || r.Settings.MaxClients != 100 {
			t.Errorf("changed record %q: revision %d (want %d), deleting %v, max_clients %d", r.Name, r.Revision, want, r.Deleting, r.Settings.MaxClients)
		}
	}
	idle := changesSince(t, s, ch.Latest)
	if len(idle.Records)+len(idle.Gone) != 0 || idle.Latest != ch.Latest {
		t.Errorf("nothing changed, yet TenantChanges(%d) = %d records, gone %v, latest %d", ch.Latest, len(idle.Records), idle.Gone, idle.Latest)
	}
	if none := changesSince(t, s, -1); len(none.Records)+len(none.Gone) != 0 || none.Latest != ch.Latest {
		t.Errorf("TenantChanges(-1) = %d records, gone %v, latest %d; want none, latest %d", len(none.Records), none.Gone, none.Latest, ch.Latest)
	}

	checkLaterChanges(t, s, start.Latest, ch.Latest)
}

// checkLaterChanges: after the creates of testTenantChanges, an update, a
// deletion and a create again are each listed.
func checkLaterChanges(t *testing.T, s engine.Store, start, latest int64) {
	ctx := t.Context()
	// An update lists only the tenant updated.
	rec := mustPutTenant(t, s, newRecord("alpha"), 1)
	up := changesSince(t, s, latest)
	if got := changedNames(up); !slices.Equal(got, []string{"alpha"}) || up.Records[0].Revision != rec.Revision || len(up.Gone) != 0 {
		t.Fatalf("after an update of alpha: records %v, gone %v", got, up.Gone)
	}

	// A deletion lists the tenant as gone.
	if err := s.DeleteTenant(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	del := changesSince(t, s, up.Latest)
	if len(del.Records) != 0 || !slices.Equal(del.Gone, []string{"beta"}) {
		t.Fatalf("after deleting beta: records %v, gone %v", changedNames(del), del.Gone)
	}

	// Created again, it has a record again.
	mustPutTenant(t, s, newRecord("beta"), 0)
	again := changesSince(t, s, del.Latest)
	if got := changedNames(again); !slices.Equal(got, []string{"beta"}) || again.Records[0].Revision != 1 {
		t.Fatalf("after creating beta again: records %v, gone %v", got, again.Gone)
	}

	// From the start: every tenant changed, each once, as it is now.
	all := changesSince(t, s, start)
	if got := changedNames(all); !slices.Equal(got, []string{"alpha", "beta"}) || len(all.Gone) != 0 || all.Latest != again.Latest {
		t.Errorf("since the start: records %v, gone %v, latest %d", got, all.Gone, all.Latest)
	}
}
