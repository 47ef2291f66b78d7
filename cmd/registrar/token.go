package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
)

// The client authentication methods registrar token supports (RFC 6749
// §2.3.1, OpenID Connect Core §9, RFC 7523 §2.2, RFC 8705 §2).
const (
	authBasic      = "client_secret_basic"
	authPost       = "client_secret_post"
	authJWT        = "private_key_jwt"
	authSecretJWT  = "client_secret_jwt"
	authTLS        = "tls_client_auth"
	authSelfSigned = "self_signed_tls_client_auth"
	authNone       = "none"
)

var tokenAuthMethods = []string{authBasic, authPost, authSecretJWT, authJWT, authTLS, authSelfSigned, authNone}

// assertionLifetime is how long a client assertion is valid.
const assertionLifetime = 60 * time.Second

// tokenOptions are the flags of registrar token.
type tokenOptions struct {
	e                          env
	issuer, endpoint, clientID string
	auth, secretFile           string
	keyFile, alg, kid, aud     string
	cert, key, caFile          string
	scope, output              string
	resources                  []string
	kidSet                     bool
}

func tokenCmd(e env) *cobra.Command {
	o := &tokenOptions{e: e}
	cmd := &cobra.Command{
		Use:   "token (--issuer URL | --token-endpoint URL) --client-id ID [--auth METHOD] [--scope S] [--resource URI]...",
		Short: "Get an access token with client credentials from any RFC 6749 server",
		Long: `Requests an access token with the client_credentials grant (RFC 6749 §4.4)
from any OAuth 2.0 authorization server, not only Registrar, and prints the
token response (or, with --output token, the access token alone). The token
endpoint is --token-endpoint, or is discovered from --issuer (RFC 8414, then
OpenID Connect Discovery; the document's issuer must be the one asked for).

Client authentication (--auth):
  client_secret_basic (default), client_secret_post
      the secret from --client-secret-file, else env REGISTRAR_CLIENT_SECRET
  client_secret_jwt
      a client assertion (RFC 7523) MACed with that secret, --alg HS256
      (default), HS384 or HS512: claims as for private_key_jwt
  private_key_jwt
      a client assertion (RFC 7523) signed with --key-file (PEM or JWK):
      iss = sub = client_id, aud = the token endpoint, a random jti, 60 s
  tls_client_auth, self_signed_tls_client_auth
      the TLS client certificate --cert with its key --key (RFC 8705); the
      provider's mtls_endpoint_aliases.token_endpoint is used if it has one
  none
      a public client: only client_id is sent

A refusal prints the server's error JSON on standard error and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.kidSet = cmd.Flags().Changed("kid")
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "the authorization server's issuer URL, to discover its token endpoint")
	f.StringVar(&o.endpoint, "token-endpoint", "", "the token endpoint URL (instead of --issuer)")
	f.StringVar(&o.clientID, "client-id", e.getenv("REGISTRAR_CLIENT_ID"), "the client_id (env REGISTRAR_CLIENT_ID; required)")
	f.StringVar(&o.auth, "auth", authBasic, "client authentication: "+strings.Join(tokenAuthMethods, ", "))
	f.StringVar(&o.secretFile, "client-secret-file", "", "file holding the client secret (else env REGISTRAR_CLIENT_SECRET)")
	f.StringVar(&o.keyFile, "key-file", "", "private_key_jwt: the private key, PEM or JWK")
	f.StringVar(&o.alg, "alg", "", "private_key_jwt: the JWS algorithm (default: the JWK's alg, else RS256, the ES* of the curve, or EdDSA); client_secret_jwt: HS256 (default), HS384 or HS512")
	f.StringVar(&o.kid, "kid", "", `private_key_jwt: the kid header (default: the JWK's kid, else the key's RFC 7638 thumbprint; "" for none)`)
	f.StringVar(&o.aud, "assertion-aud", "", "private_key_jwt, client_secret_jwt: the assertion's aud (default: the token endpoint URL)")
	f.StringVar(&o.cert, "cert", "", "tls_client_auth: the client certificate (PEM)")
	f.StringVar(&o.key, "key", "", "tls_client_auth: the certificate's private key (PEM)")
	f.StringVar(&o.caFile, "ca-file", "", "PEM certificates to trust for the server instead of the system's")
	f.StringVar(&o.scope, "scope", "", "the scope to request (space-separated)")
	f.StringArrayVar(&o.resources, "resource", nil, "a resource indicator (RFC 8707); repeat for several")
	f.StringVarP(&o.output, "output", "o", "json", "json (the token response) or token (the access token alone)")
	return cmd
}

// run gets the token and prints it.
func (o *tokenOptions) run(ctx context.Context) error {
	if err := o.check(); err != nil {
		return err
	}
	client, err := o.httpClient()
	if err != nil {
		return err
	}
	endpoint, err := o.tokenEndpoint(ctx, client)
	if err != nil {
		return err
	}
	form, header, err := o.credentials(endpoint)
	if err != nil {
		return err
	}
	form.Set("grant_type", "client_credentials")
	if o.scope != "" {
		form.Set("scope", o.scope)
	}
	for _, r := range o.resources {
		form.Add("resource", r)
	}
	resp, err := send(ctx, client, http.MethodPost, endpoint, "", "application/x-www-form-urlencoded", header, []byte(form.Encode()))
	if err != nil {
		return fail(o.e.stderr, err)
	}
	return o.print(resp)
}

// check refuses a command line that cannot work before anything is sent.
func (o *tokenOptions) check() error {
	switch {
	case (o.issuer == "") == (o.endpoint == ""):
		return usageError{"give either --issuer or --token-endpoint"}
	case o.clientID == "":
		return usageError{"--client-id is required (or env REGISTRAR_CLIENT_ID)"}
	case !slices.Contains(tokenAuthMethods, o.auth):
		return usageError{fmt.Sprintf("--auth %q: want one of %s", o.auth, strings.Join(tokenAuthMethods, ", "))}
	case o.output != "json" && o.output != "token":
		return usageError{fmt.Sprintf("--output %q: want json or token", o.output)}
	}
	if err := o.checkAuthFlags(); err != nil {
		return err
	}
	if o.auth == authSecretJWT && o.alg != "" && !slices.Contains(engine.SecretJWTAlgs, o.alg) {
		return usageError{fmt.Sprintf("--alg %q: client_secret_jwt MACs with HS256, HS384 or HS512", o.alg)}
	}
	if o.endpoint != "" {
		return checkEndpoint(o.endpoint, o.auth == authTLS || o.auth == authSelfSigned)
	}
	return nil
}

// checkAuthFlags refuses flags that do not go with --auth, and missing
// ones that it needs.
func (o *tokenOptions) checkAuthFlags() error {
	jwt, tlsAuth := o.auth == authJWT, o.auth == authTLS || o.auth == authSelfSigned
	assertion, secret := jwt || o.auth == authSecretJWT, o.auth == authBasic || o.auth == authPost || o.auth == authSecretJWT
	for _, f := range []struct {
		name, value string
		fits        bool
	}{
		{"--client-secret-file", o.secretFile, secret},
		{"--key-file", o.keyFile, jwt}, {"--alg", o.alg, assertion}, {"--assertion-aud", o.aud, assertion},
		{"--cert", o.cert, tlsAuth}, {"--key", o.key, tlsAuth},
	} {
		if f.value != "" && !f.fits {
			return usageError{fmt.Sprintf("%s does not go with --auth %s", f.name, o.auth)}
		}
	}
	switch {
	case o.kidSet && !jwt:
		return usageError{"--kid does not go with --auth " + o.auth}
	case jwt && o.keyFile == "":
		return usageError{"--auth private_key_jwt needs --key-file"}
	case tlsAuth && (o.cert == "" || o.key == ""):
		return usageError{"--auth " + o.auth + " needs --cert and --key"}
	}
	return nil
}

// checkEndpoint refuses a token endpoint that is not an http or https URL,
// or not https when the client authenticates with its TLS certificate.
func checkEndpoint(endpoint string, tlsAuth bool) error {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageError{fmt.Sprintf("token endpoint %q: want an http or https URL", endpoint)}
	}
	if tlsAuth && u.Scheme != "https" {
		return usageError{fmt.Sprintf("token endpoint %q: TLS client authentication needs https", endpoint)}
	}
	return nil
}

// httpClient is the client of the token command: it trusts --ca-file if
// given, presents --cert if given, and follows no redirect of the token
// request, which would carry the credentials elsewhere.
func (o *tokenOptions) httpClient() (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.caFile != "" {
		b, err := os.ReadFile(o.caFile)
		if err != nil {
			return nil, usageError{"--ca-file: " + err.Error()}
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, usageError{"--ca-file " + o.caFile + ": no PEM certificate"}
		}
	}
	if o.cert != "" {
		pair, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, usageError{"--cert, --key: " + err.Error()}
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{
		Timeout:   httpClient.Timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.Method != http.MethodGet || len(via) >= 10 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}, nil
}

// tokenEndpoint is --token-endpoint, or the one --issuer's metadata
// advertises (for TLS client authentication its mTLS alias, if any).
func (o *tokenOptions) tokenEndpoint(ctx context.Context, c *http.Client) (string, error) {
	if o.endpoint != "" {
		return o.endpoint, nil
	}
	md, where, err := discoverMetadata(ctx, c, o.issuer, oauthAuthorizationServer, openIDConfiguration)
	if err != nil {
		return "", err
	}
	endpoint := md.TokenEndpoint
	tlsAuth := o.auth == authTLS || o.auth == authSelfSigned
	if tlsAuth && md.MTLSEndpointAliases.TokenEndpoint != "" {
		endpoint = md.MTLSEndpointAliases.TokenEndpoint
	}
	if endpoint == "" {
		return "", fmt.Errorf("%s: the provider advertises no token_endpoint", where)
	}
	if err := checkEndpoint(endpoint, tlsAuth); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return endpoint, nil
}

// credentials returns the form parameters and headers that authenticate
// the client at endpoint.
func (o *tokenOptions) credentials(endpoint string) (url.Values, map[string]string, error) {
	form := url.Values{}
	switch o.auth {
	case authBasic, authPost:
		secret, err := o.secret()
		if err != nil {
			return nil, nil, err
		}
		if o.auth == authPost {
			form.Set("client_id", o.clientID)
			form.Set("client_secret", secret)
			return form, nil, nil
		}
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(o.clientID) + ":" + url.QueryEscape(secret)))
		return form, map[string]string{"Authorization": "Basic " + basic}, nil
	case authJWT, authSecretJWT:
		assertion, err := o.assertion(endpoint)
		if err != nil {
			return nil, nil, err
		}
		form.Set("client_id", o.clientID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
		return form, nil, nil
	}
	// TLS client authentication and public clients send client_id only
	// (RFC 8705 §2 requires it).
	form.Set("client_id", o.clientID)
	return form, nil, nil
}

// secret reads the client secret from --client-secret-file, else from
// REGISTRAR_CLIENT_SECRET.
func (o *tokenOptions) secret() (string, error) {
	if o.secretFile != "" {
		b, err := os.ReadFile(o.secretFile)
		if err != nil {
			return "", usageError{"--client-secret-file: " + err.Error()}
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return "", usageError{"--client-secret-file: " + o.secretFile + " is empty"}
		}
		return s, nil
	}
	if s := o.e.getenv("REGISTRAR_CLIENT_SECRET"); s != "" {
		return s, nil
	}
	return "", usageError{"--auth " + o.auth + " needs the client secret: --client-secret-file or env REGISTRAR_CLIENT_SECRET"}
}

// assertion signs a client assertion for endpoint with --key-file, or
// MACs it with the client secret for client_secret_jwt.
func (o *tokenOptions) assertion(endpoint string) (string, error) {
	claims, err := o.assertionClaims(endpoint)
	if err != nil {
		return "", err
	}
	if o.auth == authSecretJWT {
		secret, err := o.secret()
		if err != nil {
			return "", err
		}
		return jose.SignSecretAssertion([]byte(secret), cmp.Or(o.alg, "HS256"), claims)
	}
	b, err := os.ReadFile(o.keyFile)
	if err != nil {
		return "", usageError{"--key-file: " + err.Error()}
	}
	key, err := jose.ParseSigningKey(b, o.alg)
	if err != nil {
		return "", usageError{"--key-file " + o.keyFile + ": " + err.Error()}
	}
	if o.kidSet {
		key.KeyID = o.kid
	}
	return jose.SignClientAssertion(key, claims)
}

// assertionClaims are the claims of a client assertion for endpoint
// (RFC 7523 §3): iss = sub = client_id, aud, a random jti, 60 s.
func (o *tokenOptions) assertionClaims(endpoint string) (jose.AssertionClaims, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return jose.AssertionClaims{}, err
	}
	now := time.Now()
	return jose.AssertionClaims{
		Issuer: o.clientID, Subject: o.clientID, Audience: cmp.Or(o.aud, endpoint),
		ID: base64.RawURLEncoding.EncodeToString(jti), IssuedAt: now, Expiry: now.Add(assertionLifetime),
	}, nil
}

// print writes the token response, or its access token alone.
func (o *tokenOptions) print(resp []byte) error {
	if o.output == "json" {
		printJSON(o.e.stdout, resp)
		return nil
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp, &tr); err != nil || tr.AccessToken == "" {
		printJSON(o.e.stderr, resp)
		return errors.New("the token response has no access_token")
	}
	fmt.Fprintln(o.e.stdout, tr.AccessToken)
	return nil
}
