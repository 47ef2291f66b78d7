package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// The commands over the admin API. Each maps to one route (routeCommands
// lists them, and a test checks that every route of the API has one).

// paging are the flags of a listing.
type paging struct {
	cursor string
	limit  int
	all    bool
}

func (p *paging) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.cursor, "cursor", "", "start at this cursor (next_cursor of the previous page)")
	cmd.Flags().IntVar(&p.limit, "limit", 0, "page size (default: the server's, 100)")
	cmd.Flags().BoolVar(&p.all, "all", false, "follow next_cursor and print every page")
}

// list prints a listing: one page, or with --all every page merged into
// one document under key.
func (p *paging) list(ctx context.Context, o *adminOptions, path, key string, q url.Values) error {
	if p.limit < 0 {
		return usageError{"--limit must not be negative"}
	}
	if q == nil {
		q = url.Values{}
	}
	if p.limit > 0 {
		q.Set("limit", strconv.Itoa(p.limit))
	}
	if p.cursor != "" {
		q.Set("cursor", p.cursor)
	}
	if !p.all {
		return o.print(ctx, request{method: http.MethodGet, path: path, query: q})
	}
	var items []json.RawMessage
	for {
		b, err := o.do(ctx, request{method: http.MethodGet, path: path, query: q})
		if err != nil {
			return fail(o.e.stderr, err)
		}
		var page map[string]json.RawMessage
		if err := json.Unmarshal(b, &page); err != nil {
			return fmt.Errorf("GET %s: not a JSON listing", path)
		}
		var these []json.RawMessage
		if err := json.Unmarshal(page[key], &these); err != nil {
			return fmt.Errorf("GET %s: the listing has no %q array", path, key)
		}
		items = append(items, these...)
		var next string
		_ = json.Unmarshal(page["next_cursor"], &next)
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	if items == nil {
		items = []json.RawMessage{}
	}
	return o.show(jsonBody(map[string]any{key: items}))
}

// runE wraps a command body with the check of the shared flags.
func runE(o *adminOptions, needTenant bool, fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.check(needTenant); err != nil {
			return err
		}
		return fn(cmd.Context(), args)
	}
}

// bodyFromFile reads a JSON or YAML 1.2 document (a file, or - for standard
// input) and returns it as JSON.
func bodyFromFile(e env, flag, path string) ([]byte, error) {
	b, err := readSource(e, flag, path)
	if err != nil {
		return nil, err
	}
	j, err := yamlToJSON(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s%w", flag, path, err)
	}
	return j, nil
}

func tenantCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{Use: "tenant", Short: "List, show, create or replace, and delete tenants", Args: cobra.NoArgs}
	addAdminFlags(cmd, o, e, false)
	list := &cobra.Command{
		Use: "list", Short: "List the tenants (GET /admin/tenants)", Args: cobra.NoArgs,
		RunE: runE(o, false, func(ctx context.Context, _ []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: "/admin/tenants"})
		}),
	}
	get := &cobra.Command{
		Use: "get TENANT", Short: "Show a tenant's settings and revision (GET /admin/tenants/{t})", Args: cobra.ExactArgs(1),
		RunE: runE(o, false, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: "/admin/tenants/" + url.PathEscape(args[0])})
		}),
	}
	var settings string
	var ifMatch int64
	put := &cobra.Command{
		Use:   "put TENANT --settings FILE|-",
		Short: "Create or replace a tenant (PUT /admin/tenants/{t})",
		Long: `Creates or replaces a tenant with the settings of a JSON or YAML file (the
tenant settings of the configuration file; see docs). --if-match makes the
change conditional on the tenant's current revision.`,
		Args: cobra.ExactArgs(1),
		RunE: runE(o, false, func(ctx context.Context, args []string) error {
			body, err := bodyFromFile(e, "--settings", settings)
			if err != nil {
				return err
			}
			return o.print(ctx, request{method: http.MethodPut, path: "/admin/tenants/" + url.PathEscape(args[0]), body: body, header: ifMatchHeader(ifMatch)})
		}),
	}
	put.Flags().StringVar(&settings, "settings", "", `settings file (JSON or YAML), or "-" for standard input (required)`)
	put.Flags().Int64Var(&ifMatch, "if-match", 0, "change only if the tenant is at this revision")
	_ = put.MarkFlagRequired("settings")
	var delIfMatch int64
	del := &cobra.Command{
		Use: "delete TENANT", Short: "Delete a tenant and everything in it (DELETE /admin/tenants/{t})", Args: cobra.ExactArgs(1),
		RunE: runE(o, false, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodDelete, path: "/admin/tenants/" + url.PathEscape(args[0]), header: ifMatchHeader(delIfMatch)})
		}),
	}
	del.Flags().Int64Var(&delIfMatch, "if-match", 0, "delete only if the tenant is at this revision")
	cmd.AddCommand(list, get, put, del)
	return cmd
}

func iatCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{Use: "iat", Short: "Mint, list, show and revoke initial access tokens", Args: cobra.NoArgs}
	addAdminFlags(cmd, o, e, true)
	var (
		policies    []string
		expiresIn   string
		maxUses     int64
		clientID    string
		replacement bool
		statement   bool
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Mint an initial access token (POST /admin/tenants/{t}/initial-access-tokens)",
		Long: `Mints an initial access token and prints it as JSON: the token itself is shown
this once. --expires-in takes seconds, a Go duration ("2h") or ISO 8601 ("PT2H").`,
		Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			if maxUses < 0 {
				return usageError{"--max-uses must not be negative"}
			}
			if replacement && clientID == "" {
				return usageError{"--replacement needs --client-id"}
			}
			req := map[string]any{"policies": policies, "max_uses": maxUses, "replacement": replacement}
			if policies == nil {
				req["policies"] = []string{}
			}
			if clientID != "" {
				req["client_id"] = clientID
			}
			if statement {
				req["software_statement_required"] = true
			}
			if n, err := strconv.ParseInt(expiresIn, 10, 64); err == nil {
				req["expires_in"] = n
			} else if expiresIn != "" {
				req["expires_in"] = expiresIn
			}
			return o.print(ctx, request{method: http.MethodPost, path: o.tenantPath("initial-access-tokens"), body: jsonBody(req)})
		}),
	}
	create.Flags().StringSliceVar(&policies, "policies", nil, "policy modules the token names (comma-separated)")
	create.Flags().StringVar(&expiresIn, "expires-in", "", `lifetime: seconds, "2h" or "PT2H" (default 24h)`)
	create.Flags().Int64Var(&maxUses, "max-uses", 0, "registrations the token admits (0: no limit)")
	create.Flags().StringVar(&clientID, "client-id", "", "client_id to reserve for the registration")
	create.Flags().BoolVar(&replacement, "replacement", false, "let the token register --client-id again, replacing it")
	create.Flags().BoolVar(&statement, "software-statement-required", false, "registrations with the token must carry a software statement (docs/statements.md)")
	var pg paging
	list := &cobra.Command{
		Use: "list", Short: "List live initial access tokens (GET …/initial-access-tokens)", Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			return pg.list(ctx, o, o.tenantPath("initial-access-tokens"), "initial_access_tokens", nil)
		}),
	}
	pg.add(list)
	get := &cobra.Command{
		Use: "get ID", Short: "Show an initial access token (GET …/initial-access-tokens/{id})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: o.tenantPath("initial-access-tokens", args[0])})
		}),
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke an initial access token (DELETE …/initial-access-tokens/{id})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodDelete, path: o.tenantPath("initial-access-tokens", args[0])})
		}),
	}
	cmd.AddCommand(create, list, get, revoke)
	return cmd
}

// clientFilter are the filters of client listings and bulk deletes.
type clientFilter struct{ iat, policy string }

func (f *clientFilter) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.iat, "initial-access-token", "", "only clients admitted by this initial access token (its id)")
	cmd.Flags().StringVar(&f.policy, "policy", "", "only clients whose metadata this policy version shaped (NAME@SHA256)")
}

func (f *clientFilter) query() url.Values {
	q := url.Values{}
	if f.iat != "" {
		q.Set("initial_access_token", f.iat)
	}
	if f.policy != "" {
		q.Set("policy", f.policy)
	}
	return q
}

func clientCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{Use: "client", Short: "List, show and delete registered clients; mint registration access tokens", Args: cobra.NoArgs}
	addAdminFlags(cmd, o, e, true)
	var pg paging
	var lf clientFilter
	list := &cobra.Command{
		Use: "list", Short: "List clients, optionally filtered (GET …/clients)", Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			return pg.list(ctx, o, o.tenantPath("clients"), "clients", lf.query())
		}),
	}
	pg.add(list)
	lf.add(list)
	get := &cobra.Command{
		Use: "get CLIENT_ID", Short: "Show a client with its provenance (GET …/clients/{id})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: o.tenantPath("clients", args[0])})
		}),
	}
	del := &cobra.Command{
		Use: "delete CLIENT_ID", Short: "Delete a client (DELETE …/clients/{id})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodDelete, path: o.tenantPath("clients", args[0])})
		}),
	}
	var bf clientFilter
	var yes bool
	bulk := &cobra.Command{
		Use:   "delete-matching --initial-access-token ID | --policy NAME@SHA256 --yes",
		Short: "Delete every client that matches a filter (DELETE …/clients?filter)",
		Args:  cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			if bf.iat == "" && bf.policy == "" {
				return usageError{"delete-matching needs --initial-access-token or --policy"}
			}
			if !yes {
				return usageError{"delete-matching deletes clients for good: add --yes"}
			}
			return o.print(ctx, request{method: http.MethodDelete, path: o.tenantPath("clients"), query: bf.query()})
		}),
	}
	bf.add(bulk)
	bulk.Flags().BoolVar(&yes, "yes", false, "confirm the bulk delete")
	rat := &cobra.Command{
		Use:   "rat CLIENT_ID",
		Short: "Mint a fresh registration access token for a client (POST …/clients/{id}/registration-access-token)",
		Args:  cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodPost, path: o.tenantPath("clients", args[0], "registration-access-token")})
		}),
	}
	cmd.AddCommand(list, get, del, bulk, rat)
	return cmd
}

func adminTokenCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{Use: "admin-token", Short: "Mint, list and revoke tenant admin tokens (global admin only)", Args: cobra.NoArgs}
	addAdminFlags(cmd, o, e, true)
	var desc, expiresIn string
	create := &cobra.Command{
		Use: "create", Short: "Mint a tenant admin token (POST …/admin-tokens)", Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			req := map[string]any{}
			if desc != "" {
				req["description"] = desc
			}
			if n, err := strconv.ParseInt(expiresIn, 10, 64); err == nil {
				req["expires_in"] = n
			} else if expiresIn != "" {
				req["expires_in"] = expiresIn
			}
			return o.print(ctx, request{method: http.MethodPost, path: o.tenantPath("admin-tokens"), body: jsonBody(req)})
		}),
	}
	create.Flags().StringVar(&desc, "description", "", "what the token is for")
	create.Flags().StringVar(&expiresIn, "expires-in", "", `lifetime: seconds, "720h" or "P30D" (default 90 days)`)
	list := &cobra.Command{
		Use: "list", Short: "List a tenant's admin tokens (GET …/admin-tokens)", Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: o.tenantPath("admin-tokens")})
		}),
	}
	revoke := &cobra.Command{
		Use: "revoke ID", Short: "Revoke a tenant admin token (DELETE …/admin-tokens/{id})", Args: cobra.ExactArgs(1),
		RunE: runE(o, true, func(ctx context.Context, args []string) error {
			return o.print(ctx, request{method: http.MethodDelete, path: o.tenantPath("admin-tokens", args[0])})
		}),
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}

// auditFilter selects audit events on the client side.
type auditFilter struct {
	types    []string
	clientID string
	actor    string
}

func (f auditFilter) match(ev map[string]json.RawMessage) bool {
	str := func(k string) string { return cell(ev[k]) }
	if len(f.types) > 0 {
		ok := false
		for _, t := range f.types {
			ok = ok || str("type") == t
		}
		if !ok {
			return false
		}
	}
	return (f.clientID == "" || str("client_id") == f.clientID) && (f.actor == "" || str("actor") == f.actor)
}

func auditCmd(e env) *cobra.Command {
	o := &adminOptions{}
	var (
		f      auditFilter
		limit  int
		follow bool
		every  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Print a tenant's audit log, newest first, or follow it (GET …/audit)",
		Long: `Prints the newest audit events of a tenant (--tenant), or of the process
(shared policy modules) without --tenant, newest first, one JSON object per
line. With --follow it prints them oldest first, like tail -f, then polls for
new events and prints each as it comes. --type, --client-id and --actor filter the events.`,
		Args: cobra.NoArgs,
		RunE: runE(o, false, func(ctx context.Context, _ []string) error {
			if limit <= 0 {
				return usageError{"--limit must be positive"}
			}
			if every <= 0 {
				return usageError{"--every must be positive"}
			}
			path := "/admin/audit"
			if o.tenant != "" {
				path = o.tenantPath("audit")
			}
			return tailAudit(ctx, o, path, f, limit, follow, every)
		}),
	}
	addAdminFlags(cmd, o, e, true)
	cmd.Flags().StringSliceVar(&f.types, "type", nil, "only events of these types (comma-separated, e.g. client.created)")
	cmd.Flags().StringVar(&f.clientID, "client-id", "", "only events about this client")
	cmd.Flags().StringVar(&f.actor, "actor", "", "only events by this actor")
	cmd.Flags().IntVar(&limit, "limit", 20, "events to print before following")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep polling for new events until interrupted")
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "poll interval of --follow")
	return cmd
}

// auditEvent is an audit event as the admin API answers it.
type auditEvent = map[string]json.RawMessage

// auditTail reads an audit log for the audit command.
type auditTail struct {
	o      *adminOptions
	path   string
	filter auditFilter
}

// page reads one page of the log, newest first.
func (a auditTail) page(ctx context.Context, q url.Values) ([]auditEvent, string, error) {
	b, err := a.o.do(ctx, request{method: http.MethodGet, path: a.path, query: q})
	if err != nil {
		return nil, "", fail(a.o.e.stderr, err)
	}
	var p struct {
		Events     []auditEvent `json:"events"`
		NextCursor string       `json:"next_cursor"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("GET %s: not an audit page", a.path)
	}
	return p.Events, p.NextCursor, nil
}

func (a auditTail) print(ev auditEvent) {
	if a.filter.match(ev) {
		_, _ = a.o.e.stdout.Write(append(jsonBody(ev), '\n'))
	}
}

// newest returns up to limit matching events, newest first, paging back
// as far as it takes, and the IDs of the newest page.
func (a auditTail) newest(ctx context.Context, limit int) ([]auditEvent, map[string]bool, error) {
	var shown []auditEvent
	var seen map[string]bool
	q := url.Values{"limit": {"100"}}
	for len(shown) < limit {
		evs, next, err := a.page(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		if seen == nil {
			seen = ids(evs)
		}
		for _, ev := range evs {
			if a.filter.match(ev) && len(shown) < limit {
				shown = append(shown, ev)
			}
		}
		if next == "" || len(evs) == 0 {
			break
		}
		q.Set("cursor", next)
	}
	return shown, seen, nil
}

// follow polls for events newer than those in seen and prints them,
// oldest first, until ctx ends. It pages back until it meets a seen
// event, so a burst longer than a page is not skipped.
func (a auditTail) follow(ctx context.Context, seen map[string]bool, every time.Duration) error {
	return tick(ctx, every, func() {
		var fresh []auditEvent
		q := url.Values{"limit": {"100"}}
		newestPage := map[string]bool(nil)
		for pages := 0; pages < 10; pages++ {
			evs, next, err := a.page(ctx, q)
			if err != nil {
				fmt.Fprintln(a.o.e.stderr, "registrar audit:", err)
				break
			}
			if newestPage == nil {
				newestPage = ids(evs)
			}
			met := false
			for _, ev := range evs {
				if met = seen[cell(ev["id"])]; met {
					break
				}
				fresh = append(fresh, ev)
			}
			if met || next == "" {
				break
			}
			q.Set("cursor", next)
		}
		for i := len(fresh) - 1; i >= 0; i-- {
			a.print(fresh[i])
		}
		if newestPage != nil {
			seen = newestPage
		}
	})
}

// tick calls fn every interval until ctx ends.
func tick(ctx context.Context, every time.Duration, fn func()) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			fn()
		}
	}
}

// ids returns the IDs of events.
func ids(evs []auditEvent) map[string]bool {
	m := make(map[string]bool, len(evs))
	for _, ev := range evs {
		m[cell(ev["id"])] = true
	}
	return m
}

// tailAudit prints the newest events, then with follow polls for newer ones.
func tailAudit(ctx context.Context, o *adminOptions, path string, f auditFilter, limit int, follow bool, every time.Duration) error {
	a := auditTail{o: o, path: path, filter: f}
	shown, seen, err := a.newest(ctx, limit)
	if err != nil {
		return err
	}
	if !follow {
		for _, ev := range shown {
			a.print(ev)
		}
		return nil
	}
	// Following reads like tail -f: the newest events first come oldest
	// first, then each new one as it comes.
	for i := len(shown) - 1; i >= 0; i-- {
		a.print(shown[i])
	}
	return a.follow(ctx, seen, every)
}
