package oauth

import (
	"context"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"

	"github.com/registrar-dev/registrar/engine"
)

// The token_endpoint_auth_method values (RFC 7591 §2, RFC 8705 §2).
const (
	MethodSecretBasic      = "client_secret_basic"
	MethodSecretPost       = "client_secret_post"
	MethodSecretJWT        = "client_secret_jwt"
	MethodPrivateKeyJWT    = "private_key_jwt"
	MethodTLSClientAuth    = "tls_client_auth"
	MethodSelfSignedTLS    = "self_signed_tls_client_auth"
	MethodNone             = "none"
	assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// Credentials are what a request presented to authenticate its client
// (RFC 6749 §2.3). The HTTP layer fills them in; at most one method may be
// used per request.
type Credentials struct {
	// Basic reports an Authorization header with the Basic scheme;
	// BasicID and BasicSecret are its client ID and secret, already
	// form-decoded (RFC 6749 §2.3.1).
	Basic       bool
	BasicID     string
	BasicSecret string
	// ClientID and ClientSecret are the client_id and client_secret
	// parameters of the body.
	ClientID     string
	ClientSecret string
	// AssertionType and Assertion are the client_assertion_type and
	// client_assertion parameters (RFC 7521 §4.2).
	AssertionType string
	Assertion     string
	// Certificates is the client's certificate chain, leaf first, from
	// the TLS handshake or a trusted proxy; nil when there is none.
	Certificates []*x509.Certificate
}

// presented is the method a request's credentials use, as far as it can
// be told without the client's registration: the assertion methods and
// the TLS methods differ only by what the client registered.
type presented int

const (
	presentedNone presented = iota
	presentedBasic
	presentedPost
	presentedAssertion
)

// authenticated is a client that proved who it is.
type authenticated struct {
	client *engine.Client
	method string
	// record is the client's stored record as read, when the store gave
	// it (ClientTokenWriter); cached reports that the client came from
	// the token endpoint's memory (clientcache.go).
	record string
	cached bool
}

// errAuthFailed is the answer to every failed client authentication, so
// that a caller learns nothing about which clients exist; the cause goes
// to the log and the audit log.
func errAuthFailed(cause error) *engine.Error {
	return &engine.Error{Code: engine.CodeInvalidClient, Description: "client authentication failed", Err: cause}
}

// method says which method the credentials use and which client they
// name; more than one method, or contradicting client IDs, is a malformed
// request (RFC 6749 §2.3).
func (c *Credentials) method() (presented, string, error) {
	used := 0
	p := presentedNone
	if c.Basic {
		used, p = used+1, presentedBasic
	}
	if c.ClientSecret != "" {
		used, p = used+1, presentedPost
	}
	if c.Assertion != "" || c.AssertionType != "" {
		if c.AssertionType != assertionTypeJWTBearer {
			return 0, "", engine.Errorf(engine.CodeInvalidRequest, "client_assertion_type must be %s", assertionTypeJWTBearer)
		}
		if c.Assertion == "" {
			return 0, "", engine.Errorf(engine.CodeInvalidRequest, "client_assertion_type is set but client_assertion is missing")
		}
		used, p = used+1, presentedAssertion
	}
	if used > 1 {
		return 0, "", engine.Errorf(engine.CodeInvalidRequest, "the request uses more than one client authentication method (RFC 6749 §2.3)")
	}
	id := c.ClientID
	if p == presentedBasic {
		if c.ClientID != "" && c.ClientID != c.BasicID {
			return 0, "", engine.Errorf(engine.CodeInvalidRequest, "client_id differs from the client ID of the Authorization header")
		}
		id = c.BasicID
	}
	return p, id, nil
}

// authenticate finds the client that the credentials name and checks
// them against its registered token_endpoint_auth_method. audiences are
// the values a client assertion's aud may take. pre, when it is of the
// client the credentials name, is that client as already read.
func (s *Server) authenticate(ctx context.Context, tenant string, cr *Credentials, audiences []string, pre *prefetched) (*authenticated, error) {
	p, id, err := cr.method()
	if err != nil {
		return nil, err
	}
	if p == presentedAssertion {
		if id, err = assertionClientID(cr); err != nil {
			return nil, err
		}
	}
	if id == "" {
		return nil, errAuthFailed(errors.New("the request names no client"))
	}
	c, err := s.client(ctx, tenant, id, pre)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, errAuthFailed(fmt.Errorf("no client %q", id))
	}
	if err != nil {
		return nil, storeError("client", err)
	}
	method := c.Metadata.TokenEndpointAuthMethod
	if err := s.methodAllowed(tenant, method); err != nil {
		return nil, err
	}
	err = s.verify(ctx, tenant, c, p, cr, audiences)
	var answer *engine.Error
	if errors.As(err, &answer) {
		return nil, err
	}
	if err != nil {
		return nil, errAuthFailed(fmt.Errorf("client %q: %w", id, err))
	}
	who := &authenticated{client: c, method: method}
	if pre != nil && pre.id == id {
		who.record = pre.record
	}
	return who, nil
}

// client returns the client with that ID: pre's if it is of that client,
// else from the store.
func (s *Server) client(ctx context.Context, tenant, id string, pre *prefetched) (*engine.Client, error) {
	switch {
	case pre == nil || pre.id != id:
		return s.clients.Client(ctx, tenant, id)
	case pre.client == nil:
		return nil, engine.ErrNotFound
	}
	return pre.client, nil
}

// verify checks the credentials by the client's registered
// token_endpoint_auth_method. An *engine.Error it returns is the answer
// (the store failing); any other error is a cause of invalid_client.
func (s *Server) verify(ctx context.Context, tenant string, c *engine.Client, p presented, cr *Credentials, audiences []string) error {
	switch method := c.Metadata.TokenEndpointAuthMethod; method {
	case MethodSecretBasic, MethodSecretPost:
		return s.checkSecret(c, p, cr)
	case MethodNone:
		return checkNone(p)
	case MethodPrivateKeyJWT:
		return s.checkPrivateKeyJWT(ctx, tenant, c, p, cr, audiences)
	case MethodSecretJWT:
		return s.checkSecretJWT(ctx, tenant, c, p, cr, audiences)
	case MethodTLSClientAuth:
		return s.checkTLSClientAuth(c, p, cr)
	case MethodSelfSignedTLS:
		return s.checkSelfSigned(ctx, c, p, cr)
	default:
		return fmt.Errorf("the token endpoint cannot verify token_endpoint_auth_method %s", method)
	}
}

// verifiable are the token_endpoint_auth_method values this server can
// verify; private_key_jwt only with Config.Assertions, client_secret_jwt
// only with it and Config.KeyEncryption, the TLS methods only with what
// they need (see AuthMethods).
var verifiable = []string{MethodSecretBasic, MethodSecretPost, MethodNone, MethodPrivateKeyJWT, MethodSecretJWT, MethodTLSClientAuth, MethodSelfSignedTLS}

// AuthMethods returns those of a tenant's token_endpoint_auth_method
// values that the token endpoint can verify, in the order given: what
// discovery advertises.
func (s *Server) AuthMethods(tenantMethods []string) []string {
	var out []string
	for _, m := range tenantMethods {
		if m == MethodPrivateKeyJWT && s.assertions == nil || m == MethodSecretJWT && !s.verifiesSecretJWT() {
			continue
		}
		if slices.Contains(verifiable, m) && s.mtlsVerifiable(m) {
			out = append(out, m)
		}
	}
	return out
}

// methodAllowed refuses a client whose registered method the tenant no
// longer supports.
func (s *Server) methodAllowed(tenant, method string) error {
	ok, err := s.reg.SupportsAuthMethod(tenant, method)
	if err != nil {
		return err
	}
	if !ok {
		return errAuthFailed(fmt.Errorf("the tenant no longer supports the client's token_endpoint_auth_method %s", method))
	}
	return nil
}

// checkSecret checks client_secret_basic and client_secret_post: the
// registered method, then the secret against its digest in constant time,
// then its expiry (client_secret_expires_at, RFC 7591 §3.2.1).
func (s *Server) checkSecret(c *engine.Client, p presented, cr *Credentials) error {
	var secret string
	switch {
	case c.Metadata.TokenEndpointAuthMethod == MethodSecretBasic && p == presentedBasic:
		secret = cr.BasicSecret
	case c.Metadata.TokenEndpointAuthMethod == MethodSecretPost && p == presentedPost:
		secret = cr.ClientSecret
	default:
		return fmt.Errorf("registered %s, presented another method", c.Metadata.TokenEndpointAuthMethod)
	}
	if c.SecretHash == "" {
		return errors.New("the client has no secret")
	}
	if subtle.ConstantTimeCompare([]byte(engine.HashToken(secret)), []byte(c.SecretHash)) != 1 {
		return errors.New("wrong client secret")
	}
	if !c.ExpiresAt.IsZero() && !s.now().Before(c.ExpiresAt) {
		return errors.New("the client secret has expired")
	}
	return nil
}

// checkNone accepts a public client that presented nothing but its ID.
func checkNone(p presented) error {
	if p != presentedNone {
		return errors.New("registered none, presented credentials")
	}
	return nil
}
