package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// RunAuditLog runs the conformance suite of engine.AuditLog against the
// logs that newLog makes, one fresh log for each subtest. maxLen is the cap
// of those logs: how many events each tenant's log keeps. It must be
// between 10 and 1000, as the suite appends up to maxLen+10 events to one
// tenant; implementations make their logs with a small cap for the suite.
//
// Where the documentation of engine.AuditLog is silent, the suite decides:
//
//   - AppendAudit never changes its argument, and ignores any ID it has.
//   - An event comes back as it went in, with the ID AppendAudit returned:
//     Time to the nanosecond (compared with Equal), everything else as
//     values that encode to the same JSON.
//   - IDs are opaque strings: the suite checks that each is unique within
//     its tenant and that the listing orders them, never how they compare.
//   - A log keeps exactly the newest maxLen events of each tenant: no more
//     (an approximate trim does not pass) and no fewer.
//   - A page ends with an empty next cursor when no older event follows,
//     even when it is full; a next cursor is the ID of the page's last
//     event. A tenant without events has an empty page, not an error.
//   - The log of tenant "" is one more log, apart from every tenant's. As
//     a backend shared between runs may hold events of other runs in it,
//     the suite looks only for its own events there.
func RunAuditLog(t *testing.T, newLog func(t *testing.T) engine.AuditLog, maxLen int) {
	if maxLen < 10 || maxLen > 1000 {
		t.Fatalf("RunAuditLog: maxLen %d is not between 10 and 1000", maxLen)
	}
	tests := []struct {
		name string
		run  func(*testing.T, engine.AuditLog, int)
	}{
		{"Order", testAuditOrder},
		{"RoundTrip", testAuditRoundTrip},
		{"Paging", testAuditPaging},
		{"Isolation", testAuditIsolation},
		{"Cap", testAuditCap},
		{"ConcurrentAppend", testConcurrentAppend},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newLog(t), maxLen)
		})
	}
}

// newEvent returns an event of tenant with the fields an ordinary event
// has; detail tells it apart.
func newEvent(tenant, detail string) *engine.AuditEvent {
	return &engine.AuditEvent{
		Time:     now(),
		Tenant:   tenant,
		Type:     engine.AuditClientRegistered,
		Actor:    "initial-access-token:" + engine.HashToken("iat"),
		ClientID: "client-" + detail,
		Detail:   detail,
	}
}

// mustAppend appends e and returns its ID.
func mustAppend(t *testing.T, l engine.AuditLog, e *engine.AuditEvent) string {
	t.Helper()
	id, err := l.AppendAudit(t.Context(), e)
	if err != nil {
		t.Fatalf("AppendAudit(%s, %s): %v", e.Tenant, e.Detail, err)
	}
	if id == "" {
		t.Fatalf("AppendAudit(%s, %s) returned an empty ID", e.Tenant, e.Detail)
	}
	return id
}

// checkEvent is checkClient for audit events.
func checkEvent(t *testing.T, what string, got, want *engine.AuditEvent) bool {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil event", what)
		return false
	}
	ok := checkTimes(t, what, []timeField{{"Time", got.Time, want.Time}})
	g, w := *got, *want
	g.Time, w.Time = time.Time{}, time.Time{}
	return checkJSON(t, what, g, w) && ok
}

// withID returns a copy of e with the ID id.
func withID(e *engine.AuditEvent, id string) *engine.AuditEvent {
	c := *e
	c.ID = id
	return &c
}

// listEvents returns every event of tenant, newest first, page by page.
func listEvents(t *testing.T, l engine.AuditLog, tenant string, limit int) []*engine.AuditEvent {
	t.Helper()
	var events []*engine.AuditEvent
	what := fmt.Sprintf("AuditEvents(%q, limit %d)", tenant, limit)
	collect(t, what, limit, func(before string) ([]*engine.AuditEvent, string, error) {
		page, next, err := l.AuditEvents(t.Context(), tenant, before, limit)
		for _, e := range page {
			if e.Tenant != tenant {
				t.Errorf("%s returned event %s of tenant %q", what, e.ID, e.Tenant)
			}
		}
		events = append(events, page...)
		return page, next, err
	}, func(e *engine.AuditEvent) string { return e.ID })
	return events
}

// eventIDs returns the IDs of events.
func eventIDs(events []*engine.AuditEvent) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	return ids
}

// checkUnique checks that ids has no duplicates.
func checkUnique(t *testing.T, what string, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s: ID %q given twice", what, id)
		}
		seen[id] = true
	}
}

// testAuditOrder appends events and lists them newest first.
func testAuditOrder(t *testing.T, l engine.AuditLog, _ int) {
	ctx := t.Context()
	tenant := newTenant()
	if page, next, err := l.AuditEvents(ctx, tenant, "", 10); err != nil || len(page) != 0 || next != "" {
		t.Errorf("AuditEvents of a tenant without events = %d events, next %q, %v; want none", len(page), next, err)
	}
	var want []*engine.AuditEvent
	for i, typ := range []string{engine.AuditTenantCreated, engine.AuditIATMinted, engine.AuditClientRegistered, engine.AuditClientUpdated, engine.AuditClientDeleted} {
		e := newEvent(tenant, fmt.Sprint("event ", i))
		e.Type = typ
		if i == 3 {
			e.ID = "preset" // ignored
		}
		arg := *e
		id := mustAppend(t, l, &arg)
		checkEvent(t, "argument of AppendAudit after the call", &arg, e)
		want = append(want, withID(e, id))
	}
	checkUnique(t, "AppendAudit", eventIDs(want))
	slices.Reverse(want)

	page, next, err := l.AuditEvents(ctx, tenant, "", 10)
	if err != nil || next != "" {
		t.Fatalf("AuditEvents = next %q, %v; want no cursor", next, err)
	}
	if got := eventIDs(page); !slices.Equal(got, eventIDs(want)) {
		t.Fatalf("AuditEvents IDs = %q, want %q, newest first", got, eventIDs(want))
	}
	for i := range page {
		checkEvent(t, "AuditEvents entry "+want[i].Detail, page[i], want[i])
	}

	// A later event comes first.
	last := newEvent(tenant, "last")
	id := mustAppend(t, l, last)
	page, _, err = l.AuditEvents(ctx, tenant, "", 1)
	if err != nil || len(page) != 1 || page[0].ID != id {
		t.Errorf("AuditEvents after another append = %v, %v; want the new event %s first", eventIDs(page), err, id)
	}
	checkUnique(t, "AppendAudit", append(eventIDs(want), id))
}

// testAuditRoundTrip appends an event with every field set and checks that
// the log keeps a copy of it.
func testAuditRoundTrip(t *testing.T, l engine.AuditLog, _ int) {
	ctx := t.Context()
	tenant := newTenant()
	policy := engine.PolicyVersion{Name: "fapi", Digest: digest("fapi")}
	e := &engine.AuditEvent{
		Time:      now().Add(-time.Second),
		Tenant:    tenant,
		Type:      engine.AuditClientRejected,
		Actor:     "tenant-admin:" + engine.HashToken("admin"),
		ClientID:  "client-1",
		TokenID:   engine.HashToken("token"),
		Policy:    &policy,
		Policies:  []engine.PolicyVersion{v1, policy, v2},
		Error:     engine.CodeInvalidRequest,
		Detail:    "redirect_uris: \"http\" is not allowed; ünïcode ✓",
		RequestID: "req-0001",
		RemoteIP:  "2001:db8::1",
	}
	sparse := &engine.AuditEvent{Time: now(), Tenant: tenant, Type: engine.AuditPolicyLoaded, Actor: "system", Policies: []engine.PolicyVersion{}}
	want := []*engine.AuditEvent{
		withID(sparse, mustAppend(t, l, sparse)),
		withID(e, mustAppend(t, l, e)),
	}
	wantFull := withID(e, want[1].ID)
	wantFull.Policy = &engine.PolicyVersion{Name: policy.Name, Digest: policy.Digest}
	wantFull.Policies = slices.Clone(e.Policies)
	want[1] = wantFull
	// Changes to the argument after the call do not reach the log.
	policy.Name = "scribbled"
	e.Policies[0] = engine.PolicyVersion{Name: "scribbled"}
	e.Detail = "scribbled"

	check := func(when string) {
		t.Helper()
		page, _, err := l.AuditEvents(ctx, tenant, "", 10)
		if err != nil || len(page) != 2 {
			t.Fatalf("%s: AuditEvents = %d events, %v; want 2", when, len(page), err)
		}
		checkEvent(t, when+": full event", page[0], want[1])
		checkEvent(t, when+": sparse event", page[1], want[0])
		// Nor do changes to what the log returned.
		for _, e := range page {
			if e.Policy != nil {
				e.Policy.Name = "scribbled"
			}
			for i := range e.Policies {
				e.Policies[i].Digest = "scribbled"
			}
			e.Detail = "scribbled"
		}
	}
	check("after AppendAudit")
	check("after changing what AuditEvents returned")
}

// testAuditPaging pages through a log with every limit.
func testAuditPaging(t *testing.T, l engine.AuditLog, _ int) {
	ctx := t.Context()
	tenant := newTenant()
	const n = 7
	var ids []string
	for i := range n {
		ids = append(ids, mustAppend(t, l, newEvent(tenant, fmt.Sprint("event ", i))))
	}
	slices.Reverse(ids) // newest first
	for limit := 1; limit <= n+1; limit++ {
		if got := eventIDs(listEvents(t, l, tenant, limit)); !slices.Equal(got, ids) {
			t.Errorf("AuditEvents with limit %d = %q, want %q", limit, got, ids)
		}
	}
	for _, tc := range []struct {
		before   string
		limit    int
		want     []string
		wantNext bool
	}{
		{"", n, ids, false}, // a full last page
		{"", 3, ids[:3], true},
		{ids[0], 2, ids[1:3], true},
		{ids[2], 10, ids[3:], false},
		{ids[3], 3, ids[4:], false},
		{ids[n-2], 1, ids[n-1:], false},
		{ids[n-1], 5, nil, false}, // before the oldest
	} {
		page, next, err := l.AuditEvents(ctx, tenant, tc.before, tc.limit)
		if err != nil {
			t.Fatalf("AuditEvents(before %q, %d): %v", tc.before, tc.limit, err)
		}
		got := eventIDs(page)
		if !slices.Equal(got, tc.want) || (next != "") != tc.wantNext {
			t.Errorf("AuditEvents(before %q, %d) = %q, next %q; want %q, next empty: %t", tc.before, tc.limit, got, next, tc.want, !tc.wantNext)
		}
	}
	// A cursor taken before more appends still pages back from where it
	// was: the new events are newer.
	newer := mustAppend(t, l, newEvent(tenant, "newer"))
	page, _, err := l.AuditEvents(ctx, tenant, ids[1], 2)
	if got := eventIDs(page); err != nil || !slices.Equal(got, ids[2:4]) {
		t.Errorf("AuditEvents(before %q) after another append = %q, %v; want %q", ids[1], got, err, ids[2:4])
	}
	page, _, err = l.AuditEvents(ctx, tenant, newer, 1)
	if got := eventIDs(page); err != nil || !slices.Equal(got, ids[:1]) {
		t.Errorf("AuditEvents(before the newest) = %q, %v; want %q", got, err, ids[:1])
	}
}

// testAuditIsolation appends to tenants whose names extend each other and
// to the process-wide log: each log lists its own events only.
func testAuditIsolation(t *testing.T, l engine.AuditLog, maxLen int) {
	base := newTenant()
	tenants := []string{base, base + "b", base + "-b", ""}
	want := map[string][]*engine.AuditEvent{}
	for i := range 3 {
		for _, tenant := range tenants {
			e := newEvent(tenant, fmt.Sprintf("%s event %d of %s", base, i, tenant))
			want[tenant] = append(want[tenant], withID(e, mustAppend(t, l, e)))
		}
	}
	for _, tenant := range tenants {
		slices.Reverse(want[tenant])
		var got []*engine.AuditEvent
		if tenant == "" {
			// Other runs may share the process-wide log: keep ours.
			for _, e := range listEvents(t, l, "", maxLen) {
				for _, w := range want[""] {
					if e.Detail == w.Detail {
						got = append(got, e)
					}
				}
			}
		} else {
			got = listEvents(t, l, tenant, 2)
		}
		if len(got) != len(want[tenant]) {
			t.Errorf("AuditEvents(%q) holds %d of the test's events, want %d", tenant, len(got), len(want[tenant]))
			continue
		}
		for i := range got {
			checkEvent(t, fmt.Sprintf("AuditEvents(%q) entry %d", tenant, i), got[i], want[tenant][i])
		}
	}
}

// testAuditCap appends more events than the log keeps: it keeps the newest,
// and the other tenants' logs lose nothing.
func testAuditCap(t *testing.T, l engine.AuditLog, maxLen int) {
	tenant, other := newTenant(), newTenant()
	otherWant := []string{mustAppend(t, l, newEvent(other, "first"))}
	var ids []string
	for i := range maxLen + 10 {
		ids = append(ids, mustAppend(t, l, newEvent(tenant, fmt.Sprint("event ", i))))
		if i == maxLen/2 {
			otherWant = append(otherWant, mustAppend(t, l, newEvent(other, "second")))
		}
	}
	checkUnique(t, "AppendAudit", ids)
	slices.Reverse(ids)
	want := ids[:maxLen]
	for _, limit := range []int{3, maxLen, maxLen + 1} {
		if got := eventIDs(listEvents(t, l, tenant, limit)); !slices.Equal(got, want) {
			t.Errorf("AuditEvents with limit %d after %d appends = %d events %q, want the newest %d, %q",
				limit, maxLen+10, len(got), got, maxLen, want)
		}
	}
	slices.Reverse(otherWant)
	if got := eventIDs(listEvents(t, l, other, 10)); !slices.Equal(got, otherWant) {
		t.Errorf("AuditEvents of another tenant = %q, want %q", got, otherWant)
	}
}

// testConcurrentAppend appends from many goroutines at once: every append
// gets an ID of its own, and the log holds them all (or the newest
// maxLen).
func testConcurrentAppend(t *testing.T, l engine.AuditLog, maxLen int) {
	ctx := t.Context()
	tenant := newTenant()
	n := goroutines()
	ids := make([]string, n)
	errs := make([]error, n)
	hammer(n, func(i int) {
		ids[i], errs[i] = l.AppendAudit(ctx, newEvent(tenant, fmt.Sprint("event ", i)))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("AppendAudit %d: %v", i, err)
		}
	}
	checkUnique(t, "concurrent AppendAudit", ids)
	events := listEvents(t, l, tenant, 7)
	if len(events) != min(n, maxLen) {
		t.Errorf("after %d appends AuditEvents lists %d events, want %d", n, len(events), min(n, maxLen))
	}
	for _, e := range events {
		i := slices.Index(ids, e.ID)
		if i < 0 {
			t.Errorf("AuditEvents lists event %s, which no append returned", e.ID)
		} else if want := fmt.Sprint("event ", i); e.Detail != want {
			t.Errorf("AuditEvents lists event %s with detail %q, want %q", e.ID, e.Detail, want)
		}
	}
	last := mustAppend(t, l, newEvent(tenant, "last"))
	if page, _, err := l.AuditEvents(ctx, tenant, "", 1); err != nil || len(page) != 1 || page[0].ID != last {
		t.Errorf("AuditEvents after the hammer and one more append = %q, %v; want %s first", eventIDs(page), err, last)
	}
}
