package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// adminOptions are the flags every command over the admin API shares.
type adminOptions struct {
	url       string
	tokenFile string
	output    string
	tenant    string
	e         env
}

// addAdminFlags adds the shared flags to cmd, persistent so that its
// subcommands take them; tenant adds --tenant as well.
func addAdminFlags(cmd *cobra.Command, o *adminOptions, e env, tenant bool) {
	o.e = e
	f := cmd.PersistentFlags()
	f.StringVar(&o.url, "admin-url", envOr(e, "REGISTRAR_ADMIN_URL", "http://127.0.0.1:8081"), "admin API base URL (env REGISTRAR_ADMIN_URL)")
	f.StringVar(&o.tokenFile, "admin-token-file", e.getenv("REGISTRAR_ADMIN_TOKEN_FILE"), "file holding the admin token (env REGISTRAR_ADMIN_TOKEN_FILE; else env REGISTRAR_ADMIN_TOKEN)")
	f.StringVarP(&o.output, "output", "o", envOr(e, "REGISTRAR_OUTPUT", "json"), "output format: json or table (env REGISTRAR_OUTPUT)")
	if tenant {
		f.StringVar(&o.tenant, "tenant", e.getenv("REGISTRAR_TENANT"), "tenant (env REGISTRAR_TENANT; required)")
	}
}

// token returns the admin token: from --admin-token-file, else from
// REGISTRAR_ADMIN_TOKEN.
func (o *adminOptions) token() (string, error) {
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return "", usageError{"--admin-token-file: " + err.Error()}
		}
		t := strings.TrimSpace(string(b))
		if t == "" {
			return "", usageError{"--admin-token-file: " + o.tokenFile + " is empty"}
		}
		return t, nil
	}
	if t := o.e.getenv("REGISTRAR_ADMIN_TOKEN"); t != "" {
		return t, nil
	}
	return "", usageError{"no admin token: set REGISTRAR_ADMIN_TOKEN or --admin-token-file (a tenant admin token works for its own tenant)"}
}

// check validates the shared flags before a request is sent.
func (o *adminOptions) check(needTenant bool) error {
	if o.output != "json" && o.output != "table" {
		return usageError{fmt.Sprintf("--output %q: want json or table", o.output)}
	}
	u, err := url.Parse(o.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("--admin-url %q: want an http or https URL", o.url)}
	}
	if needTenant && o.tenant == "" {
		return usageError{"--tenant is required (or set REGISTRAR_TENANT)"}
	}
	return nil
}

// tenantPath returns the admin path of the tenant, followed by elems,
// each path-escaped.
func (o *adminOptions) tenantPath(elems ...string) string {
	p := "/admin/tenants/" + url.PathEscape(o.tenant)
	for _, e := range elems {
		p += "/" + url.PathEscape(e)
	}
	return p
}

// request is one call of the admin API.
type request struct {
	method      string
	path        string
	query       url.Values
	body        []byte
	contentType string
	header      map[string]string
}

// do sends r and returns the response body; a non-2xx answer is an
// *httpError carrying the server's error JSON.
func (o *adminOptions) do(ctx context.Context, r request) ([]byte, error) {
	token, err := o.token()
	if err != nil {
		return nil, err
	}
	target := strings.TrimRight(o.url, "/") + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	return callWith(ctx, r.method, target, token, ct, r.header, r.body)
}

// print sends r and prints the answer in the chosen format; the server's
// error JSON goes to standard error.
func (o *adminOptions) print(ctx context.Context, r request) error {
	b, err := o.do(ctx, r)
	if err != nil {
		return fail(o.e.stderr, err)
	}
	return o.show(b)
}

// show prints a response body: indented JSON, or a table.
func (o *adminOptions) show(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if o.output == "table" {
		return printTable(o.e.stdout, b)
	}
	printJSON(o.e.stdout, b)
	return nil
}

// jsonBody marshals v as a request body.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and structs of plain values are passed
	}
	return b
}

// printTable prints a listing ({"things": [...], "next_cursor": ...}) as a
// table with a row per element, or one object as a table of its members.
// Nested values are shown as compact JSON.
func printTable(w io.Writer, b []byte) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		printJSON(w, b)
		return nil
	}
	var rows []map[string]json.RawMessage
	listKey := ""
	for k, v := range obj {
		if len(v) > 0 && v[0] == '[' && json.Unmarshal(v, &rows) == nil {
			listKey = k
			break
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if listKey == "" {
		for _, k := range sortedKeys(obj) {
			fmt.Fprintf(tw, "%s\t%s\n", k, cell(obj[k]))
		}
		return tw.Flush()
	}
	var cols []string
	for _, r := range rows {
		for k := range r {
			if !slices.Contains(cols, k) {
				cols = append(cols, k)
			}
		}
	}
	slices.SortFunc(cols, compareColumns)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next := cell(obj["next_cursor"]); next != "" {
		fmt.Fprintf(w, "(more: --cursor %s)\n", next)
	}
	return nil
}

// columnRank puts identifying columns first.
func columnRank(c string) int {
	switch c {
	case "name", "id", "client_id", "tenant":
		return 0
	case "type", "state", "active", "source":
		return 1
	}
	return 2
}

// compareColumns orders columns by rank, then by name, so tables are
// stable.
func compareColumns(a, b string) int {
	if d := columnRank(a) - columnRank(b); d != 0 {
		return d
	}
	return strings.Compare(a, b)
}

// cell renders a JSON value for a table: strings bare, the rest compact.
func cell(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, v) != nil {
		return string(v)
	}
	out := buf.String()
	if len(out) > 60 {
		out = out[:57] + "..."
	}
	return out
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ifMatchHeader returns the If-Match header for a revision, or nil for 0.
func ifMatchHeader(rev int64) map[string]string {
	if rev <= 0 {
		return nil
	}
	return map[string]string{"If-Match": fmt.Sprintf(`"%d"`, rev)}
}

// readSource reads a file, or standard input for "-", up to maxResponse bytes.
func readSource(e env, flag, path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = readAll(e.stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}
