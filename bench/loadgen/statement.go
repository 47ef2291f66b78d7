package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/jose"
)

// newStatementKey makes a signing key for software statements (ES256: a
// P-256 key; PS256: a 2048-bit RSA key, the size directories such as Open
// Banking UK's use), writes it as a private JWK to path (mode 0600) and
// returns the JWK Set of its public key: the inline "jwks" of the tenant's
// trusted issuer.
func newStatementKey(path, alg string) ([]byte, error) {
	var key jose.SigningKey
	var err error
	switch alg {
	case "ES256":
		key, err = jose.GenerateKey(alg)
	case "PS256":
		var rk *rsa.PrivateKey
		rk, err = rsa.GenerateKey(rand.Reader, 2048)
		key = jose.SigningKey{Signer: rk, Alg: alg, KeyID: "bench-ps256"}
	default:
		return nil, fmt.Errorf("-statement-alg %q: want ES256 or PS256", alg)
	}
	if err != nil {
		return nil, err
	}
	priv, err := key.PrivateJWK()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		return nil, err
	}
	pub, err := key.PublicJWK()
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string][]json.RawMessage{"keys": {pub}})
}

// statementSigner makes the registration bodies of a run with software
// statements: each one the run's body with a fresh statement, as a
// directory would issue it for every new registration.
type statementSigner struct {
	key    jose.SigningKey
	issuer string
	body   []byte // the run's body without its closing brace

	pool  [][]byte     // bodies signed before the run (fill)
	taken atomic.Int64 // how many of pool have been handed out
	late  atomic.Int64 // bodies signed during the run, the pool being spent
}

// fill signs n bodies ahead, on every core, so that the run measures
// registrations without the load generator signing beside them: signing is
// the directory's work, done elsewhere and earlier.
func (s *statementSigner) fill(n int) error {
	s.pool = make([][]byte, n)
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Go(func() {
			for i := w; i < n; i += len(errs) {
				if s.pool[i], errs[w] = s.sign(); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newStatementSigner reads the private JWK at path (as newStatementKey
// wrote it) for statements of issuer added to body, a JSON object.
func newStatementSigner(path, issuer, body string) (*statementSigner, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := jose.ParseSigningKey(b, "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &members); err != nil {
		return nil, fmt.Errorf("-body: %w", err)
	}
	if _, ok := members["software_statement"]; ok {
		return nil, errors.New("-body already has a software_statement")
	}
	trimmed := bytes.TrimSpace([]byte(body))
	return &statementSigner{key: key, issuer: issuer, body: trimmed[:len(trimmed)-1]}, nil
}

// next returns the run's body with a statement of its own: one of the
// pool, or one signed now when the pool is spent.
func (s *statementSigner) next() ([]byte, error) {
	if i := s.taken.Add(1) - 1; i < int64(len(s.pool)) {
		b := s.pool[i]
		s.pool[i] = nil
		return b, nil
	}
	s.late.Add(1)
	return s.sign()
}

// sign returns the run's body with a new statement: iss, iat now, a random
// jti and software_id.
func (s *statementSigner) sign() ([]byte, error) {
	id := rand.Text()
	claims, err := json.Marshal(map[string]any{"iss": s.issuer, "iat": time.Now().Unix(), "jti": id, "software_id": "sw-" + id})
	if err != nil {
		return nil, err
	}
	signed, err := jose.SignJWT(claims, "JWT", s.key.KeyID, s.key.Alg, s.key.Signer)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(s.body)+len(signed)+32)
	out = append(out, s.body...)
	if len(bytes.TrimSpace(s.body)) > 1 { // not "{"
		out = append(out, ',')
	}
	out = append(out, `"software_statement":"`...)
	out = append(out, signed...)
	return append(out, `"}`...), nil
}
