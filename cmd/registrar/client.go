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
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/jose"
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
	return send(ctx, httpClient, method, target, bearer, contentType, header, body)
}

// send is callWith through the client c.
func send(ctx context.Context, c *http.Client, method, target, bearer, contentType string, header map[string]string, body []byte) ([]byte, error) {
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
	resp, err := c.Do(req)
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

// providerMetadata is what the client commands read of a provider's
// metadata (RFC 8414 §2, OpenID Connect Discovery §3, RFC 8705 §5).
type providerMetadata struct {
	Issuer               string `json:"issuer"`
	RegistrationEndpoint string `json:"registration_endpoint"`
	TokenEndpoint        string `json:"token_endpoint"`
	MTLSEndpointAliases  struct {
		TokenEndpoint string `json:"token_endpoint"`
	} `json:"mtls_endpoint_aliases"`
}

// wellKnown is a metadata location derived from an issuer.
type wellKnown int

const (
	// openIDConfiguration is the issuer with
	// /.well-known/openid-configuration appended (OpenID Connect
	// Discovery §4).
	openIDConfiguration wellKnown = iota
	// oauthAuthorizationServer is /.well-known/oauth-authorization-server
	// inserted between the issuer's host and path (RFC 8414 §3.1).
	oauthAuthorizationServer
)

// discover finds the registration endpoint of the provider with the given
// issuer: OpenID Connect Discovery first, then RFC 8414.
func discover(ctx context.Context, issuer string) (string, error) {
	md, where, err := discoverMetadata(ctx, httpClient, issuer, openIDConfiguration, oauthAuthorizationServer)
	if err != nil {
		return "", err
	}
	if md.RegistrationEndpoint == "" {
		return "", fmt.Errorf("%s: the provider advertises no registration_endpoint", where)
	}
	return md.RegistrationEndpoint, nil
}

// discoverMetadata fetches the metadata of the provider with the given
// issuer through c from the locations in order, and returns the first
// document found and its URL. The document's issuer must be the one asked
// for (OpenID Connect Discovery §4.3, RFC 8414 §3.3), or an attacker's
// document could redirect registration or credentials.
func discoverMetadata(ctx context.Context, c *http.Client, issuer string, order ...wellKnown) (providerMetadata, string, error) {
	issuer = strings.TrimRight(issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return providerMetadata{}, "", usageError{fmt.Sprintf("--issuer %q: want an http or https URL", issuer)}
	}
	var errs []error
	for _, w := range order {
		loc := issuer + "/.well-known/openid-configuration"
		if w == oauthAuthorizationServer {
			loc = u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.EscapedPath()
		}
		b, err := send(ctx, c, http.MethodGet, loc, "", "", nil, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var md providerMetadata
		if err := json.Unmarshal(b, &md); err != nil {
			errs = append(errs, fmt.Errorf("%s: not a JSON metadata document", loc))
			continue
		}
		if strings.TrimRight(md.Issuer, "/") != issuer {
			return providerMetadata{}, "", fmt.Errorf("%s: the document's issuer %q is not %q", loc, md.Issuer, issuer)
		}
		return md, loc, nil
	}
	return providerMetadata{}, "", fmt.Errorf("discovery failed: %w", errors.Join(errs...))
}

func registerCmd(e env) *cobra.Command {
	var issuer, iat, metadata, keyFile, keyAlg string
	cmd := &cobra.Command{
		Use:   "register --issuer URL --metadata FILE|- [--iat TOKEN] [--generate-key FILE [--key-alg ALG]]",
		Short: "Register a client with any RFC 7591 provider",
		Long: `Discovers the provider's registration endpoint from its issuer (OpenID Connect
Discovery, then RFC 8414), registers the client metadata (RFC 7591) with an
optional initial access token, and prints the client information response.
It works against any RFC 7591 provider, not only Registrar.

--generate-key FILE makes a key pair for private_key_jwt (--key-alg ES256 by
default; RS256, PS256 with RSA 3072; ES384, ES512; EdDSA), adds its public
JWK (kid = RFC 7638 thumbprint, use sig, alg) to the metadata's jwks, sets
token_endpoint_auth_method private_key_jwt unless the metadata has one, and
writes the private key to FILE (mode 0600; a JWK if FILE ends in .json, else
PKCS#8 PEM). FILE must not exist. It is written before the registration and
removed if the provider refuses it, so that a registered client never lacks
its key; if no answer comes, the key is kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("iat") && iat == "" {
				return usageError{"--iat is empty: give the initial access token, or leave the flag out for open registration"}
			}
			if cmd.Flags().Changed("key-alg") && keyFile == "" {
				return usageError{"--key-alg goes with --generate-key"}
			}
			body, err := readSource(e, "--metadata", metadata)
			if err != nil {
				return err
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(body, &obj); err != nil {
				return fmt.Errorf("--metadata: not a JSON object: %w", err)
			}
			var key *jose.SigningKey
			if keyFile != "" {
				if key, body, err = addGeneratedKey(obj, keyAlg); err != nil {
					return err
				}
			}
			endpoint, err := discover(cmd.Context(), issuer)
			if err != nil {
				return err
			}
			if key == nil {
				return post(cmd.Context(), e, endpoint, iat, body)
			}
			return registerWithKey(cmd.Context(), e, endpoint, iat, body, keyFile, *key)
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "the provider's issuer URL (required)")
	cmd.Flags().StringVar(&iat, "iat", e.getenv("REGISTRAR_IAT"), "initial access token, if the provider needs one (env REGISTRAR_IAT)")
	cmd.Flags().StringVar(&metadata, "metadata", "", `client metadata JSON file, or "-" for standard input (required)`)
	cmd.Flags().StringVar(&keyFile, "generate-key", "", "generate a key pair for private_key_jwt, register its public key and write the private key to this new file (PEM, or JWK if it ends in .json)")
	cmd.Flags().StringVar(&keyAlg, "key-alg", "ES256", "the algorithm of --generate-key: ES256, ES384, ES512, RS256, PS256 or EdDSA")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.MarkFlagRequired("metadata")
	return cmd
}

// addGeneratedKey makes a key pair for alg, adds its public JWK to the
// metadata's jwks (which must not name a jwks_uri instead), sets
// token_endpoint_auth_method private_key_jwt unless given, and returns the
// key and the new metadata.
func addGeneratedKey(obj map[string]json.RawMessage, alg string) (*jose.SigningKey, []byte, error) {
	if _, ok := obj["jwks_uri"]; ok {
		return nil, nil, usageError{"--generate-key: the metadata has a jwks_uri; a client has jwks or jwks_uri, not both, so add the key to the set it publishes instead"}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if raw, ok := obj["jwks"]; ok {
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, nil, fmt.Errorf("--metadata: jwks is not a JWK Set: %w", err)
		}
	}
	key, err := jose.GenerateKey(alg)
	if err != nil {
		return nil, nil, usageError{"--key-alg: " + err.Error()}
	}
	pub, err := key.PublicJWK()
	if err != nil {
		return nil, nil, err
	}
	set.Keys = append(set.Keys, pub)
	if obj["jwks"], err = json.Marshal(set); err != nil {
		return nil, nil, err
	}
	if _, ok := obj["token_endpoint_auth_method"]; !ok {
		obj["token_endpoint_auth_method"] = json.RawMessage(`"private_key_jwt"`)
	}
	body, err := json.Marshal(obj)
	return &key, body, err
}

// registerWithKey writes the private key to a new file, registers, and
// removes the file if the provider refuses the registration: written
// after, a failed write would leave a registered client without its key.
// When no answer came (a network error, a timeout) the registration may
// have happened, so the key is kept.
func registerWithKey(ctx context.Context, e env, endpoint, iat string, body []byte, file string, key jose.SigningKey) error {
	var enc []byte
	var err error
	if strings.HasSuffix(strings.ToLower(file), ".json") {
		enc, err = key.PrivateJWK()
	} else {
		enc, err = key.PEM()
	}
	if err != nil {
		return err
	}
	if err := writeNewFile(file, enc); err != nil {
		return fmt.Errorf("--generate-key: %w", err)
	}
	if err := post(ctx, e, endpoint, iat, body); err != nil {
		var he *httpError
		if !errors.As(err, &he) {
			return fmt.Errorf("%w (the registration may have happened; the private key is kept in %s)", err, file)
		}
		if rmErr := os.Remove(file); rmErr != nil {
			return fmt.Errorf("%w (and removing the unused key %s: %v)", err, file, rmErr)
		}
		return err
	}
	fmt.Fprintf(e.stderr, "registrar: the private key (kid %s) is in %s\n", key.KeyID, file)
	return nil
}

// writeNewFile creates file with mode 0600, refusing an existing one, and
// writes b; on a failed write it removes the file.
func writeNewFile(file string, b []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(file)
	}
	return err
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
