package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// newRecord returns a tenant record with settings of every kind set, and
// Revision and Deleting set to what a store must overwrite.
func newRecord(name string) *engine.TenantRecord {
	t := now()
	on := true
	return &engine.TenantRecord{
		Name: name,
		Settings: engine.Settings{
			InitialAccessToken:                engine.TokenStored,
			DefaultPolicies:                   []string{"audit", "quota"},
			IssueRegistrationAccessToken:      engine.Decision{Module: "rat-decider"},
			Management:                        &on,
			RotateRegistrationAccessToken:     engine.Decision{Off: true},
			ClientDefaults:                    map[string]json.RawMessage{"application_type": json.RawMessage(`"web"`)},
			ExtraClientMetadata:               []string{"software_tier"},
			PolicyConfig:                      map[string]json.RawMessage{"quota": json.RawMessage(`{"max":3}`)},
			RegistrationValidity:              engine.Duration(90 * 24 * time.Hour),
			MaxClients:                        100,
			RegistrationRateLimit:             engine.RateLimit{PerIP: engine.Rate{Events: 20, Per: time.Minute}},
			GrantTypesSupported:               []string{"authorization_code"},
			TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
			ScopesSupported:                   []string{"openid", "profile"},
		},
		CreatedAt: t,
		UpdatedAt: t,
		Revision:  42,
		Deleting:  true,
	}
}

// scribbleRecord changes every field of r, reaching into its slices, maps
// and pointers.
func scribbleRecord(r *engine.TenantRecord) {
	r.Name += "x"
	r.CreatedAt = r.CreatedAt.Add(time.Hour)
	r.UpdatedAt = r.UpdatedAt.Add(time.Hour)
	r.Revision += 100
	r.Deleting = !r.Deleting
	st := &r.Settings
	for _, s := range [][]string{st.DefaultPolicies, st.ExtraClientMetadata, st.GrantTypesSupported, st.TokenEndpointAuthMethodsSupported, st.ScopesSupported} {
		for i := range s {
			s[i] = "scribbled"
		}
	}
	if st.Management != nil {
		*st.Management = !*st.Management
	}
	for _, m := range []map[string]json.RawMessage{st.ClientDefaults, st.PolicyConfig} {
		for _, v := range m {
			scribbleJSON(v)
		}
	}
	st.MaxClients++
}

// checkRecord is checkClient for tenant records.
func checkRecord(t *testing.T, what string, got, want *engine.TenantRecord) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil tenant record", what)
		return false
	}
	ok := checkTimes(t, what, []timeField{
		{"CreatedAt", got.CreatedAt, want.CreatedAt},
		{"UpdatedAt", got.UpdatedAt, want.UpdatedAt},
	})
	g, w := got.Clone(), want.Clone()
	g.CreatedAt, g.UpdatedAt = time.Time{}, time.Time{}
	w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	return checkJSON(t, what, g, w) && ok
}

// stored returns what the store must keep of a put of r as revision rev
// of a record created at createdAt (zero: r's own).
func stored(r *engine.TenantRecord, rev int64, createdAt time.Time) *engine.TenantRecord {
	w := r.Clone()
	w.Revision, w.Deleting = rev, false
	if !createdAt.IsZero() {
		w.CreatedAt = createdAt
	}
	return w
}

// mustPutTenant puts r, failing the test if that fails.
func mustPutTenant(t *testing.T, s engine.Store, r *engine.TenantRecord, ifRevision int64) *engine.TenantRecord {
	t.Helper()
	got, err := s.PutTenant(t.Context(), r, ifRevision)
	if err != nil {
		t.Fatalf("PutTenant(%s, %d): %v", r.Name, ifRevision, err)
	}
	return got
}

// mustTenant reads a tenant record that must be there.
func mustTenant(t *testing.T, s engine.Store, name string) *engine.TenantRecord {
	t.Helper()
	r, err := s.Tenant(t.Context(), name)
	if err != nil {
		t.Fatalf("Tenant(%s): %v", name, err)
	}
	return r
}

// checkNoTenant checks that the tenant has no record.
func checkNoTenant(t *testing.T, s engine.Store, name string) {
	t.Helper()
	r, err := s.Tenant(t.Context(), name)
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Tenant(%s) = %+v, %v; want ErrNotFound", name, r, err)
	}
}

// testTenantRecords creates and replaces a tenant record, unconditionally
// and conditionally.
func testTenantRecords(t *testing.T, s engine.Store) {
	ctx := t.Context()
	name := newTenant()
	checkNoTenant(t, s, name)

	first := newRecord(name)
	arg := first.Clone()
	got := mustPutTenant(t, s, arg, 0)
	want := stored(first, 1, time.Time{})
	checkRecord(t, "PutTenant result of a create", got, want)
	checkRecord(t, "argument of PutTenant after the call", arg, first)
	checkRecord(t, "Tenant after a create", mustTenant(t, s, name), want)

	// A replacement keeps CreatedAt and counts the revision on.
	second := newRecord(name)
	second.CreatedAt = first.CreatedAt.Add(time.Hour)
	second.UpdatedAt = first.UpdatedAt.Add(time.Minute)
	second.Settings = engine.Settings{InitialAccessToken: engine.TokenNone}
	second.Revision, second.Deleting = 0, false
	got = mustPutTenant(t, s, second, 0)
	want = stored(second, 2, first.CreatedAt)
	checkRecord(t, "PutTenant result of a replace", got, want)
	checkRecord(t, "Tenant after a replace", mustTenant(t, s, name), want)

	// Conditional puts.
	third := newRecord(name)
	third.UpdatedAt = second.UpdatedAt.Add(time.Minute)
	third.Settings.MaxClients = 3
	for _, tc := range []struct {
		ifRevision int64
		want       error
	}{
		{1, engine.ErrRevisionMismatch},
		{3, engine.ErrRevisionMismatch},
		{-1, engine.ErrRevisionMismatch},
		{2, nil},
		{2, engine.ErrRevisionMismatch}, // the revision has moved on
	} {
		got, err := s.PutTenant(ctx, third, tc.ifRevision)
		what := fmt.Sprintf("PutTenant(ifRevision %d)", tc.ifRevision)
		if tc.want != nil {
			checkErr(t, what, err, tc.want)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		want = stored(third, 3, first.CreatedAt)
		checkRecord(t, what+" result", got, want)
	}
	checkRecord(t, "Tenant after the conditional puts", mustTenant(t, s, name), want)

	// A conditional put does not create a record.
	absent := newTenant()
	_, err := s.PutTenant(ctx, newRecord(absent), 1)
	checkErr(t, "PutTenant(ifRevision 1) of an absent tenant", err, engine.ErrRevisionMismatch)
	checkNoTenant(t, s, absent)

	// The store neither keeps nor hands out its records.
	scribbleRecord(third)
	scribbleRecord(got)
	scribbleRecord(mustTenant(t, s, name))
	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	for _, r := range all {
		scribbleRecord(r)
	}
	checkRecord(t, "Tenant after changing what the store handled", mustTenant(t, s, name), want)
}

// testTenantsList checks that Tenants lists every record, sorted by name,
// and that records of tenants whose names are prefixes of each other stay
// apart.
func testTenantsList(t *testing.T, s engine.Store) {
	ctx := t.Context()
	base := newTenant()
	names := []string{base + "-b", base, base + "b", base + "-a", base + "0"}
	want := map[string]*engine.TenantRecord{}
	for i, name := range names {
		r := newRecord(name)
		r.Settings.MaxClients = i + 1
		var got *engine.TenantRecord
		for rev := range i + 1 { // tenant i is at revision i+1
			got = mustPutTenant(t, s, r, 0)
			if got.Revision != int64(rev+1) {
				t.Errorf("PutTenant(%s) number %d: Revision %d", name, rev+1, got.Revision)
			}
		}
		want[name] = stored(r, int64(i+1), time.Time{})
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	if !slices.IsSortedFunc(all, func(a, b *engine.TenantRecord) int { return strings.Compare(a.Name, b.Name) }) {
		var got []string
		for _, r := range all {
			got = append(got, r.Name)
		}
		t.Errorf("Tenants are not sorted by name: %q", got)
	}
	var mine []string
	for _, r := range all {
		if w, ok := want[r.Name]; ok {
			checkRecord(t, "Tenants entry "+r.Name, r, w)
			mine = append(mine, r.Name)
		}
	}
	if wantNames := slices.Sorted(slices.Values(names)); !slices.Equal(mine, wantNames) {
		t.Errorf("Tenants lists %q of this test's tenants, want %q", mine, wantNames)
	}
	for _, name := range names {
		checkRecord(t, "Tenant("+name+")", mustTenant(t, s, name), want[name])
	}
}

// populate gives tenant clients, initial access tokens and admin tokens,
// n of each kind but admin tokens, of which it gives three.
func populate(t *testing.T, s engine.Store, tenant string, n int) {
	t.Helper()
	tok := newToken(tenant, engine.HashToken("populate"), 0)
	mustCreateToken(t, s, tok)
	for i := range n {
		c := newClient(tenant, fmt.Sprintf("c%04d", i))
		if i%2 == 0 {
			c.IssuedBy = tok.ID
		}
		if i%5 == 0 {
			c.ExpiresAt = now().Add(time.Hour)
		}
		mustCreateClient(t, s, c)
		if i > 0 {
			mustCreateToken(t, s, newToken(tenant, engine.HashToken(fmt.Sprint("populate ", i)), 0))
		}
	}
	for i := range 3 {
		mustCreateAdminToken(t, s, newAdminToken(tenant, fmt.Sprint("populate ", i)))
	}
}

// contents describes what a tenant holds, for comparing before and after.
type contents struct {
	clients, tokens, admins []string
	record                  bool
}

// contentsOf lists what the store holds of tenant.
func contentsOf(t *testing.T, s engine.Store, tenant string) contents {
	t.Helper()
	var c contents
	c.clients = listIDs(t, s, tenant, 100)
	c.tokens = listTokenIDs(t, s, tenant, 100)
	admins, err := s.AdminTokens(t.Context(), tenant)
	if err != nil {
		t.Fatalf("AdminTokens(%s): %v", tenant, err)
	}
	for _, a := range admins {
		c.admins = append(c.admins, a.ID)
	}
	_, err = s.Tenant(t.Context(), tenant)
	if err != nil && !errors.Is(err, engine.ErrNotFound) {
		t.Fatalf("Tenant(%s): %v", tenant, err)
	}
	c.record = err == nil
	return c
}

// equal reports whether c and d list the same.
func (c contents) equal(d contents) bool {
	return slices.Equal(c.clients, d.clients) && slices.Equal(c.tokens, d.tokens) &&
		slices.Equal(c.admins, d.admins) && c.record == d.record
}

// testDeleteTenant deletes a tenant with records of every kind, next to
// tenants whose names extend its name.
func testDeleteTenant(t *testing.T, s engine.Store) {
	ctx := t.Context()
	doomed := newTenant()
	d := deletedTenant{
		name:       doomed,
		neighbours: []string{doomed + "-2", doomed + "2", doomed + "-" + doomed},
		before:     map[string]contents{},
		client:     "c0003",
		token:      engine.HashToken("populate 3"),
		admin:      newAdminToken(doomed, "populate 1").ID,
	}
	const n = 120 // more than one batch of a store that deletes in batches of 100
	for _, tenant := range append([]string{doomed}, d.neighbours...) {
		mustPutTenant(t, s, newRecord(tenant), 0)
		populate(t, s, tenant, n)
	}
	for _, tenant := range d.neighbours {
		d.before[tenant] = contentsOf(t, s, tenant)
	}
	if c := contentsOf(t, s, doomed); len(c.clients) != n || len(c.tokens) != n || len(c.admins) != 3 || !c.record {
		t.Fatalf("test data: the doomed tenant holds %d clients, %d tokens, %d admin tokens, record %t",
			len(c.clients), len(c.tokens), len(c.admins), c.record)
	}

	if err := s.DeleteTenant(ctx, doomed); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	d.checkGone(t, s, "after DeleteTenant")

	// The tombstone refuses creates; updates and deletes find nothing.
	checkTombstone(t, s, doomed)
	_, err := s.UpdateClient(ctx, doomed, d.client, func(*engine.Client) error {
		t.Errorf("UpdateClient called fn for a client of a deleted tenant")
		return nil
	})
	checkErr(t, "UpdateClient in a deleted tenant", err, engine.ErrNotFound)
	checkErr(t, "DeleteClient in a deleted tenant", s.DeleteClient(ctx, doomed, d.client), engine.ErrNotFound)
	checkErr(t, "DeleteInitialAccessToken in a deleted tenant", s.DeleteInitialAccessToken(ctx, doomed, d.token), engine.ErrNotFound)
	checkErr(t, "DeleteAdminToken in a deleted tenant", s.DeleteAdminToken(ctx, doomed, d.admin), engine.ErrNotFound)
	// A neighbour is not refused.
	mustCreateClient(t, s, newClient(d.neighbours[0], "after"))

	// Deleting again succeeds, as a call that resumes a failed one must.
	if err := s.DeleteTenant(ctx, doomed); err != nil {
		t.Fatalf("DeleteTenant again: %v", err)
	}
	delete(d.before, d.neighbours[0])
	d.neighbours = d.neighbours[1:]
	d.checkGone(t, s, "after DeleteTenant again")
	checkTombstone(t, s, doomed)
}

// deletedTenant is the tenant testDeleteTenant deletes: its name, one
// client, initial access token and admin token it held, and its neighbours
// with what they held before.
type deletedTenant struct {
	name                 string
	neighbours           []string
	before               map[string]contents
	client, token, admin string
}

// checkGone checks that the deleted tenant holds nothing, is not listed,
// and that its neighbours hold what they held before.
func (d deletedTenant) checkGone(t *testing.T, s engine.Store, when string) {
	t.Helper()
	ctx := t.Context()
	if c := contentsOf(t, s, d.name); !c.equal(contents{}) {
		t.Errorf("%s: the tenant still holds %d clients, %d tokens, %d admin tokens, record %t",
			when, len(c.clients), len(c.tokens), len(c.admins), c.record)
	}
	checkNoClient(t, s, d.name, d.client)
	if _, err := s.InitialAccessToken(ctx, d.name, d.token); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s: InitialAccessToken: got error %v, want ErrNotFound", when, err)
	}
	if _, err := s.AdminToken(ctx, d.name, d.admin); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("%s: AdminToken: got error %v, want ErrNotFound", when, err)
	}
	all, err := s.Tenants(ctx)
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	for _, r := range all {
		if r.Name == d.name {
			t.Errorf("%s: Tenants lists the deleted tenant", when)
		}
	}
	d.checkNeighbours(t, s, when)
}

// checkNeighbours checks that the neighbours hold what they held before.
func (d deletedTenant) checkNeighbours(t *testing.T, s engine.Store, when string) {
	t.Helper()
	for _, tenant := range d.neighbours {
		if c, b := contentsOf(t, s, tenant), d.before[tenant]; !c.equal(b) {
			t.Errorf("%s: neighbour %s holds %d clients, %d tokens, %d admin tokens, record %t; it had %d, %d, %d, %t",
				when, tenant, len(c.clients), len(c.tokens), len(c.admins), c.record,
				len(b.clients), len(b.tokens), len(b.admins), b.record)
		}
	}
}

// checkTombstone checks that creates in tenant are refused with
// ErrNoTenant, and leave nothing behind.
func checkTombstone(t *testing.T, s engine.Store, tenant string) {
	t.Helper()
	ctx := t.Context()
	for _, opts := range []engine.CreateOptions{{}, {Replace: true}, {MaxClients: 1000}} {
		checkErr(t, fmt.Sprintf("CreateClient(%+v) in a deleted tenant", opts),
			s.CreateClient(ctx, newClient(tenant, "refused"), opts), engine.ErrNoTenant)
	}
	checkErr(t, "CreateInitialAccessToken in a deleted tenant",
		s.CreateInitialAccessToken(ctx, newToken(tenant, "refused", 0)), engine.ErrNoTenant)
	checkErr(t, "CreateAdminToken in a deleted tenant",
		s.CreateAdminToken(ctx, newAdminToken(tenant, "refused")), engine.ErrNoTenant)
	if c := contentsOf(t, s, tenant); !c.equal(contents{}) {
		t.Errorf("after refused creates the deleted tenant holds %d clients, %d tokens, %d admin tokens",
			len(c.clients), len(c.tokens), len(c.admins))
	}
}

// testDeleteTenantWithoutRecord deletes the data of tenants that have no
// record, as tenants of the configuration file have none, and of a tenant
// that never had anything.
func testDeleteTenantWithoutRecord(t *testing.T, s engine.Store) {
	ctx := t.Context()
	configured, unknown, kept := newTenant(), newTenant(), newTenant()
	populate(t, s, configured, 5)
	populate(t, s, kept, 5)
	want := contentsOf(t, s, kept)
	for _, tenant := range []string{configured, unknown} {
		if err := s.DeleteTenant(ctx, tenant); err != nil {
			t.Fatalf("DeleteTenant(%s): %v", tenant, err)
		}
		if c := contentsOf(t, s, tenant); !c.equal(contents{}) {
			t.Errorf("after DeleteTenant(%s) it holds %d clients, %d tokens, %d admin tokens, record %t",
				tenant, len(c.clients), len(c.tokens), len(c.admins), c.record)
		}
		checkTombstone(t, s, tenant)
	}
	if got := contentsOf(t, s, kept); !got.equal(want) {
		t.Errorf("another tenant lost records to DeleteTenant")
	}
}

// testPutTenantAfterDelete creates a deleted tenant again: it starts
// afresh, empty, at revision 1, and takes creates at once.
func testPutTenantAfterDelete(t *testing.T, s engine.Store) {
	ctx := t.Context()
	name := newTenant()
	old := newRecord(name)
	mustPutTenant(t, s, old, 0)
	mustPutTenant(t, s, old, 0)
	populate(t, s, name, 5)
	if err := s.DeleteTenant(ctx, name); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	_, err := s.PutTenant(ctx, newRecord(name), 2)
	checkErr(t, "PutTenant(ifRevision 2) after DeleteTenant", err, engine.ErrRevisionMismatch)
	checkNoTenant(t, s, name)

	fresh := newRecord(name)
	fresh.CreatedAt = old.CreatedAt.Add(time.Hour)
	fresh.UpdatedAt = fresh.CreatedAt
	got := mustPutTenant(t, s, fresh, 0)
	want := stored(fresh, 1, time.Time{})
	checkRecord(t, "PutTenant after DeleteTenant", got, want)
	checkRecord(t, "Tenant after PutTenant after DeleteTenant", mustTenant(t, s, name), want)
	if c := contentsOf(t, s, name); !c.equal(contents{record: true}) {
		t.Errorf("the tenant created again holds %d clients, %d tokens, %d admin tokens; want none",
			len(c.clients), len(c.tokens), len(c.admins))
	}

	// The tenant exists again: the tombstone no longer refuses creates.
	c := newClient(name, "c0001")
	mustCreateClient(t, s, c)
	checkClient(t, "Client in the tenant created again", mustClient(t, s, name, "c0001"), c)
	tok := newToken(name, engine.HashToken("populate"), 0)
	mustCreateToken(t, s, tok)
	checkUses(t, s, name, tok.ID, 0)
	mustCreateAdminToken(t, s, newAdminToken(name, "again"))
}

// testConcurrentPutTenant makes many conditional puts of one revision at
// once: exactly one wins.
func testConcurrentPutTenant(t *testing.T, s engine.Store) {
	ctx := t.Context()
	name := newTenant()
	first := mustPutTenant(t, s, newRecord(name), 0)
	n := goroutines()
	records := make([]*engine.TenantRecord, n)
	errs := make([]error, n)
	for i := range records {
		records[i] = newRecord(name)
		records[i].Settings.MaxClients = i + 1
	}
	hammer(n, func(i int) { _, errs[i] = s.PutTenant(ctx, records[i], 1) })
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("puts %d and %d of revision 1 both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, engine.ErrRevisionMismatch):
			t.Errorf("put %d: got error %v, want ErrRevisionMismatch", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no put of revision 1 succeeded")
	}
	checkRecord(t, "Tenant after the contest", mustTenant(t, s, name), stored(records[winner], 2, first.CreatedAt))

	// Unconditional puts all succeed, each with a revision of its own.
	revs := make([]int64, n)
	hammer(n, func(i int) {
		var r *engine.TenantRecord
		if r, errs[i] = s.PutTenant(ctx, records[i], 0); errs[i] == nil {
			revs[i] = r.Revision
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("unconditional put %d: %v", i, err)
		}
	}
	slices.Sort(revs)
	for i, rev := range revs {
		if rev != int64(i+3) {
			t.Fatalf("unconditional puts returned revisions %v, want 3 to %d", revs, n+2)
		}
	}
	if got := mustTenant(t, s, name).Revision; got != int64(n+2) {
		t.Errorf("Revision after %d puts = %d", n+1, got)
	}
}

// testConcurrentDeleteTenant creates clients and tokens from many
// goroutines while the tenant is deleted: each create is either refused
// with ErrNoTenant or deleted, so nothing is left.
func testConcurrentDeleteTenant(t *testing.T, s engine.Store) {
	ctx := t.Context()
	tenant := newTenant()
	mustPutTenant(t, s, newRecord(tenant), 0)
	populate(t, s, tenant, 20)
	n := goroutines()
	errs := make([]error, n)
	hammer(n, func(i int) {
		switch {
		case i == 0:
			errs[i] = s.DeleteTenant(ctx, tenant)
		case i%3 == 0:
			errs[i] = s.CreateInitialAccessToken(ctx, newToken(tenant, fmt.Sprintf("racer-%03d", i), 0))
		case i%3 == 1:
			errs[i] = s.CreateAdminToken(ctx, newAdminToken(tenant, fmt.Sprintf("racer-%03d", i)))
		default:
			errs[i] = s.CreateClient(ctx, newClient(tenant, fmt.Sprintf("racer-%03d", i)), engine.CreateOptions{})
		}
	})
	if errs[0] != nil {
		t.Fatalf("DeleteTenant: %v", errs[0])
	}
	for i, err := range errs[1:] {
		if err != nil && !errors.Is(err, engine.ErrNoTenant) {
			t.Errorf("create %d during DeleteTenant: got error %v, want nil or ErrNoTenant", i+1, err)
		}
	}
	if c := contentsOf(t, s, tenant); !c.equal(contents{}) {
		t.Errorf("after DeleteTenant the tenant holds %d clients, %d tokens, %d admin tokens, record %t; want nothing",
			len(c.clients), len(c.tokens), len(c.admins), c.record)
	}
}
