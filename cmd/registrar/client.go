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
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// httpClient is the client of register and of the admin commands.
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

func registerCmd(e env) *cobra.Command {
	var issuer, iat, metadata string
	cmd := &cobra.Command{
		Use:   "register --issuer URL --metadata FILE|- [--iat TOKEN]",
		Short: "Register a client with any RFC 7591 provider",
		Long: `Discovers the provider's registration endpoint from its issuer (OpenID Connect
Discovery, then RFC 8414), registers the client metadata (RFC 7591) with an
optional initial access token, and prints the client information response.
It works against any RFC 7591 provider, not only Registrar.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("iat") && iat == "" {
				return usageError{"--iat is empty: give the initial access token, or leave the flag out for open registration"}
			}
			body, err := readSource(e, "--metadata", metadata)
			if err != nil {
				return err
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(body, &obj); err != nil {
				return fmt.Errorf("--metadata: not a JSON object: %w", err)
			}
			endpoint, err := discover(cmd.Context(), issuer)
			if err != nil {
				return err
			}
			return post(cmd.Context(), e, endpoint, iat, body)
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "the provider's issuer URL (required)")
	cmd.Flags().StringVar(&iat, "iat", e.getenv("REGISTRAR_IAT"), "initial access token, if the provider needs one (env REGISTRAR_IAT)")
	cmd.Flags().StringVar(&metadata, "metadata", "", `client metadata JSON file, or "-" for standard input (required)`)
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("metadata")
	return cmd
}

// post sends a JSON body and prints the answer: the response to standard
// output, or the server's error JSON to standard error.
func post(ctx context.Context, e env, target, bearer string, body []byte) error {
	resp, err := call(ctx, http.MethodPost, target, bearer, body)
	if err != nil {
		return fail(e.stderr, err)
	}
	printJSON(e.stdout, resp)
	return nil
}

// fail prints the server's error JSON of a failed call to stderr, and
// returns err.
func fail(stderr io.Writer, err error) error {
	var he *httpError
	if errors.As(err, &he) {
		printJSON(stderr, he.body)
	}
	return err
}

// readAll reads standard input, up to maxResponse bytes.
func readAll(r io.Reader) ([]byte, error) { return io.ReadAll(io.LimitReader(r, maxResponse)) }
