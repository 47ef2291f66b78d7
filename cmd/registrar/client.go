package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// httpClient is the client of the register and iat commands.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// maxResponse bounds the responses the client commands read.
const maxResponse = 1 << 20

// call sends a JSON request and returns the response body; a non-2xx
// answer is an error carrying the server's error JSON.
func call(ctx context.Context, method, target, bearer string, body []byte) ([]byte, error) {
	return callWith(ctx, method, target, bearer, "application/json", nil, body)
}

// callWith is call with a body of another content type and extra headers.
func callWith(ctx context.Context, method, target, bearer, contentType string, header map[string]string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", method, target, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return b, &httpError{status: resp.StatusCode, method: method, target: target, body: b}
	}
	return b, nil
}

// httpError is a non-2xx answer.
type httpError struct {
	status         int
	method, target string
	body           []byte
}

func (e *httpError) Error() string {
	var oauth struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(e.body, &oauth) == nil && oauth.Error != "" {
		return fmt.Sprintf("%s %s: %d %s: %s", e.method, e.target, e.status, oauth.Error, oauth.Description)
	}
	return fmt.Sprintf("%s %s: HTTP %d", e.method, e.target, e.status)
}

// printJSON writes b indented, or as it is if it is not JSON.
func printJSON(w io.Writer, b []byte) {
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		out.Reset()
		out.Write(b)
	}
	if out.Len() > 0 && out.Bytes()[out.Len()-1] != '\n' {
		out.WriteByte('\n')
	}
	_, _ = w.Write(out.Bytes())
}

// discover finds the registration endpoint of the provider with the given
// issuer: OpenID Connect Discovery first, then RFC 8414. The document's
// issuer must be the one asked for (OpenID Connect Discovery §4.3,
// RFC 8414 §3.3), or an attacker's document could redirect registration.
func discover(ctx context.Context, issuer string) (string, error) {
	issuer = strings.TrimRight(issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", usageError{fmt.Sprintf("--issuer %q: want an http or https URL", issuer)}
	}
	candidates := []string{
		issuer + "/.well-known/openid-configuration",
		u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.EscapedPath(),
	}
	var errs []error
	for _, c := range candidates {
		b, err := call(ctx, http.MethodGet, c, "", nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var doc struct {
			Issuer               string `json:"issuer"`
			RegistrationEndpoint string `json:"registration_endpoint"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a JSON metadata document", c))
			continue
		}
		if strings.TrimRight(doc.Issuer, "/") != issuer {
			return "", fmt.Errorf("%s: the document's issuer %q is not %q", c, doc.Issuer, issuer)
		}
		if doc.RegistrationEndpoint == "" {
			return "", fmt.Errorf("%s: the provider advertises no registration_endpoint", c)
		}
		return doc.RegistrationEndpoint, nil
	}
	return "", fmt.Errorf("discovery failed: %w", errors.Join(errs...))
}

func register(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("registrar register", e)
	issuer := fs.String("issuer", "", "the provider's issuer URL (required)")
	iat := fs.String("iat", e.getenv("REGISTRAR_IAT"), "initial access token, if the provider needs one (env REGISTRAR_IAT)")
	metadata := fs.String("metadata", "", `client metadata JSON file, or "-" for standard input (required)`)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: registrar register --issuer URL [--iat TOKEN] --metadata file.json|-\n\nDiscovers the provider's registration endpoint, registers the metadata\n(RFC 7591) and prints the client information response.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *issuer == "" || *metadata == "" {
		return usageError{"--issuer and --metadata are required"}
	}
	var body []byte
	var err error
	if *metadata == "-" {
		body, err = readAll(e.stdin)
	} else {
		body, err = os.ReadFile(*metadata)
	}
	if err != nil {
		return fmt.Errorf("--metadata: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return fmt.Errorf("--metadata: not a JSON object: %w", err)
	}
	endpoint, err := discover(ctx, *issuer)
	if err != nil {
		return err
	}
	return post(ctx, e, endpoint, *iat, body)
}

// post sends a JSON body and prints the answer: the response to standard
// output, or the server's error JSON to standard error.
func post(ctx context.Context, e env, target, bearer string, body []byte) error {
	return send(ctx, e, http.MethodPost, target, bearer, "application/json", nil, body)
}

// send is post with any method, content type and extra headers.
func send(ctx context.Context, e env, method, target, bearer, contentType string, header map[string]string, body []byte) error {
	resp, err := callWith(ctx, method, target, bearer, contentType, header, body)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			printJSON(e.stderr, he.body)
		}
		return err
	}
	printJSON(e.stdout, resp)
	return nil
}

// readAll reads standard input, up to maxResponse bytes.
func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(r, maxResponse)) }

// stringList is a comma-separated flag value.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }

func (s *stringList) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

func iatCreate(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("registrar iat create", e)
	adminURL := fs.String("admin-url", envOr(e, "REGISTRAR_ADMIN_URL", "http://127.0.0.1:8081"), "admin API base URL (env REGISTRAR_ADMIN_URL)")
	tenant := fs.String("tenant", "default", "tenant")
	var policies stringList
	fs.Var(&policies, "policies", "comma-separated policy modules the token names")
	expiresIn := fs.String("expires-in", "", `lifetime: seconds, "2h" or ISO 8601 "PT2H" (default 24h)`)
	maxUses := fs.Int64("max-uses", 0, "registrations the token admits (0: no limit)")
	clientID := fs.String("client-id", "", "client_id to reserve for the registration")
	replacement := fs.Bool("replacement", false, "let the token register --client-id again, replacing it")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: registrar iat create [flags]\n\nMints an initial access token through the admin API, authenticated by\nREGISTRAR_ADMIN_TOKEN, and prints it as JSON.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	token := e.getenv("REGISTRAR_ADMIN_TOKEN")
	if token == "" {
		return usageError{"set REGISTRAR_ADMIN_TOKEN to the admin token"}
	}
	req := map[string]any{"policies": []string(policies), "max_uses": *maxUses, "replacement": *replacement}
	if policies == nil {
		req["policies"] = []string{}
	}
	if *clientID != "" {
		req["client_id"] = *clientID
	}
	if n, err := strconv.ParseInt(*expiresIn, 10, 64); err == nil {
		req["expires_in"] = n // seconds
	} else if *expiresIn != "" {
		req["expires_in"] = *expiresIn
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	target := strings.TrimRight(*adminURL, "/") + "/admin/tenants/" + url.PathEscape(*tenant) + "/initial-access-tokens"
	return post(ctx, e, target, token, body)
}

func envOr(e env, name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}
