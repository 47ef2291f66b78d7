package oauth

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/jose"
)

// JWT access tokens (RFC 9068): signed with the tenant's active key, never
// stored. Introspection verifies them with the tenant's published keys;
// revocation marks their jti until they expire.

// accessTokenClaims are the claims of RFC 9068 §2.2 (and cnf, RFC 8705
// §3.1) in the order a token carries them.
type accessTokenClaims struct {
	Iss      string   `json:"iss"`
	Sub      string   `json:"sub"`
	Aud      audClaim `json:"aud"`
	Exp      int64    `json:"exp"`
	Iat      int64    `json:"iat"`
	Jti      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope,omitempty"`
	Cnf      *cnf     `json:"cnf,omitempty"`
}

// reservedClaims are the claims the token endpoint sets; the rest are the
// hook's extra claims.
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "jti": true,
	"client_id": true, "scope": true, "cnf": true, "nbf": true,
}

// audClaim is aud: a string when it is one value, else an array (RFC 7519
// §4.1.3).
type audClaim []string

// MarshalJSON implements json.Marshaler.
func (a audClaim) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *audClaim) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audClaim{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(a))
}

// issueJWT signs the token's claims with the tenant's active key. Nothing
// is stored.
func (s *Server) issueJWT(ctx context.Context, issuer string, t *Token) (string, error) {
	key, signer, err := s.signer(ctx, t.Tenant)
	if err != nil {
		s.log.ErrorContext(ctx, "cannot sign a JWT access token", "tenant", t.Tenant, "err", err)
		return "", err
	}
	claims, err := json.Marshal(accessTokenClaims{
		Iss: issuer, Sub: t.Subject, Aud: t.Audience, Exp: t.ExpiresAt.Unix(), Iat: t.IssuedAt.Unix(),
		Jti: t.ID, ClientID: t.ClientID, Scope: t.Scope, Cnf: confirmation(t.CertThumbprint),
	})
	if err != nil {
		return "", err
	}
	if len(t.Claims) > 0 {
		extra, err := json.Marshal(t.Claims)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		buf.Write(claims[:len(claims)-1])
		buf.WriteByte(',')
		buf.Write(extra[1:])
		claims = buf.Bytes()
	}
	value, err := jose.SignJWT(claims, typAccessToken, key.ID, key.Algorithm, signer)
	if err != nil {
		return "", &engine.Error{Code: engine.CodeServerError, Description: "internal server error", Err: err}
	}
	return value, nil
}

// isJWT reports whether a token has the shape of a JWS: three parts.
func isJWT(token string) bool {
	return strings.Count(token, ".") == 2
}

// lookupJWT checks a JWT access token of the tenant: signed by one of its
// published keys, unexpired, not revoked, and issued to a client that is
// still registered and was so before the token was issued (deleting or
// replacing a client ends its tokens). nil when any of that fails.
func (s *Server) lookupJWT(ctx context.Context, tenant, token string) (*Token, error) {
	kid := jwtKeyID(token)
	if kid == "" {
		return nil, nil
	}
	l, err := s.keys(ctx, tenant, false, kid)
	if err != nil {
		return nil, err
	}
	payload, err := jose.VerifyJWT(token, typAccessToken, func(kid string) (string, crypto.PublicKey, bool) {
		k, ok := l.public[kid]
		return k.alg, k.key, ok
	})
	if err != nil {
		return nil, nil
	}
	t, err := tokenOfClaims(tenant, payload)
	if err != nil || !s.now().Before(t.ExpiresAt) {
		return nil, nil
	}
	revoked, err := s.store.Marked(ctx, tenant, revokedMark(t.ID))
	if err != nil {
		return nil, storeError("marked", err)
	}
	if revoked {
		return nil, nil
	}
	c, err := s.clients.Client(ctx, tenant, t.ClientID)
	if errors.Is(err, engine.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError("client", err)
	}
	// iat has whole seconds: the client must have been registered by then.
	if t.IssuedAt.Before(c.IssuedAt.Truncate(time.Second)) {
		return nil, nil
	}
	t.ClientIssuedAt = c.IssuedAt
	return t, nil
}

// jwtKeyID returns the kid of a JWT's header without checking anything
// else, to find the key; "" if there is none.
func jwtKeyID(token string) string {
	head, _, _ := strings.Cut(token, ".")
	if len(head) > 1024 {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if b, err := base64.RawURLEncoding.DecodeString(head); err != nil || json.Unmarshal(b, &h) != nil || len(h.Kid) > 64 {
		return ""
	}
	return h.Kid
}

// tokenOfClaims reads a verified access token's claims into a Token (its
// Digest empty: it has no record).
func tokenOfClaims(tenant string, payload []byte) (*Token, error) {
	var c accessTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	if c.Jti == "" || c.ClientID == "" || c.Exp == 0 {
		return nil, fmt.Errorf("the token lacks jti, client_id or exp")
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(payload, &all); err != nil {
		return nil, err
	}
	t := &Token{
		Tenant: tenant, ID: c.Jti, ClientID: c.ClientID, Subject: c.Sub, Scope: c.Scope, Audience: c.Aud,
		IssuedAt: time.Unix(c.Iat, 0).UTC(), ExpiresAt: time.Unix(c.Exp, 0).UTC(),
	}
	if c.Cnf != nil {
		t.CertThumbprint = c.Cnf.X5tS256
	}
	for name, v := range all {
		if !reservedClaims[name] {
			if t.Claims == nil {
				t.Claims = map[string]json.RawMessage{}
			}
			t.Claims[name] = v
		}
	}
	return t, nil
}

// revokedMark is the mark of a revoked JWT's jti.
func revokedMark(jti string) string { return "revoked:" + jti }

// revokeJWT marks a JWT's jti as revoked until it expires, on every
// replica.
func (s *Server) revokeJWT(ctx context.Context, t *Token) error {
	if _, err := s.store.Mark(ctx, t.Tenant, revokedMark(t.ID), t.ExpiresAt); err != nil {
		return storeError("mark", err)
	}
	return nil
}
