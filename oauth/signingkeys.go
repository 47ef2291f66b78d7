package oauth

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/seal"
	"github.com/registrar-dev/registrar/jose"
)

// Defaults and bounds of the signing key settings.
const (
	// DefaultKeyCacheTTL is how long a replica uses the key ring it read
	// before reading it again: a rotation on one replica is seen by the
	// others within it.
	DefaultKeyCacheTTL = 30 * time.Second
	// DefaultKeyPublicationLead is how long a next key is published
	// before a rotation may make it sign.
	DefaultKeyPublicationLead = 10 * time.Minute
	// JWKSMaxAge is the Cache-Control max-age of a tenant's JWK Set. A
	// next key is in every replica's set within the key cache TTL, and in
	// every resource server's copy within JWKSMaxAge more: the publication
	// lead must cover both.
	JWKSMaxAge = 5 * time.Minute
	// keySkew is added to how long a retired key stays published, for
	// resource servers whose clocks are late.
	keySkew = time.Minute
	// unknownKidReload is the least time between two reloads of a
	// tenant's ring that unknown key IDs can cause.
	unknownKidReload = time.Second
	// maxRingKeys bounds a ring: rotations faster than the retired keys
	// expire are refused beyond it.
	maxRingKeys = 16
)

// The signing algorithms of tenant keys: RS256, the baseline of RFC 9068
// §4 that every resource server supports, with 2048-bit keys; ES256 (P-256)
// where a tenant chooses it (access_token_signing_alg), far cheaper to sign
// with.
const (
	algRS256 = "RS256"
	algES256 = "ES256"
)

// signingAlg is the algorithm of the tenant's new keys.
func (s *Server) signingAlg(tenant string) string {
	settings, err := s.reg.Settings(tenant)
	if err != nil {
		return algRS256
	}
	return tenantSigningAlg(settings)
}

// typAccessToken is the JWT typ of RFC 9068 §2.1.
const typAccessToken = "at+jwt"

// kekFlag names the configuration that supplies the key-encryption key,
// for errors an operator reads.
const kekFlag = "--key-encryption-key-file or REGISTRAR_KEY_ENCRYPTION_KEY"

// rings caches each tenant's key ring, decoded, for a short time.
type rings struct {
	mu      sync.Mutex
	tenants map[string]*tenantRing
}

// tenantRing is one tenant's cache entry. mu serialises loads, so that one
// caller per replica reads (or creates) the ring while the others wait.
type tenantRing struct {
	mu  sync.Mutex
	cur atomic.Pointer[loadedRing]
}

// loadedRing is a ring as read from the store, with its keys decoded.
type loadedRing struct {
	ring   *KeyRing // nil: the tenant has no ring
	loaded time.Time
	// public holds every published key by kid.
	public map[string]publicKey
	// active is the signing key, and signer its private key (nil, with
	// signErr, when it cannot be opened).
	active  *SigningKey
	signer  crypto.Signer
	signErr error
	// jwks is the published JWK Set.
	jwks []byte
}

type publicKey struct {
	alg string
	key crypto.PublicKey
}

// tenant returns the cache entry of a tenant.
func (r *rings) tenant(name string) *tenantRing {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tenants == nil {
		r.tenants = map[string]*tenantRing{}
	}
	t, ok := r.tenants[name]
	if !ok {
		t = &tenantRing{}
		r.tenants[name] = t
	}
	return t
}

// forget drops a tenant's cached ring, after this replica changed it.
func (r *rings) forget(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.tenants, name)
}

// keys returns the tenant's ring, from the cache while it is fresh. With
// create, a tenant without a ring gets one. With reloadKid, a cached ring
// that does not know that kid is read again (at most once per
// unknownKidReload), since another replica may have created or rotated it.
func (s *Server) keys(ctx context.Context, tenant string, create bool, reloadKid string) (*loadedRing, error) {
	t := s.rings.tenant(tenant)
	if l := t.cur.Load(); l != nil && s.fresh(l, create, reloadKid) {
		return l, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.cur.Load(); l != nil && s.fresh(l, create, reloadKid) {
		return l, nil
	}
	l, err := s.loadRing(ctx, tenant, create)
	if err != nil {
		return nil, err
	}
	t.cur.Store(l)
	return l, nil
}

// fresh reports whether a cached ring serves a request.
func (s *Server) fresh(l *loadedRing, create bool, reloadKid string) bool {
	age := s.now().Sub(l.loaded)
	switch {
	case age >= s.keyCacheTTL || age < 0:
		return false
	case create && l.ring == nil:
		return false
	case reloadKid != "" && age >= unknownKidReload:
		_, ok := l.public[reloadKid]
		return ok
	}
	return true
}

// loadRing reads the tenant's ring, creating it when asked and absent:
// the first writer wins, the others read its ring.
func (s *Server) loadRing(ctx context.Context, tenant string, create bool) (*loadedRing, error) {
	for range 3 {
		ring, err := s.store.KeyRing(ctx, tenant)
		switch {
		case err == nil:
			return s.decodeRing(ring)
		case !errors.Is(err, engine.ErrNotFound):
			return nil, storeError("key ring", err)
		case !create:
			return s.decodeRing(nil)
		}
		ring, err = s.newRing(tenant)
		if err != nil {
			return nil, err
		}
		err = s.store.PutKeyRing(ctx, ring, 0)
		if errors.Is(err, engine.ErrRevisionMismatch) {
			continue // another replica was first: use its ring
		}
		if err != nil {
			return nil, storeError("put key ring", err)
		}
		ring.Revision = 1
		s.log.InfoContext(ctx, "created the tenant's signing keys", "tenant", tenant, "active", ring.Keys[0].ID, "next", ring.Keys[1].ID)
		return s.decodeRing(ring)
	}
	return nil, storeError("key ring", errors.New("the key ring changed three times during one read"))
}

// newRing makes a tenant's first ring: an active key, which signs at once
// (nothing was signed before it), and a next key.
func (s *Server) newRing(tenant string) (*KeyRing, error) {
	if s.kek == nil {
		return nil, errNoKEK()
	}
	now, alg := s.now().UTC(), s.signingAlg(tenant)
	active, err := s.newKey(tenant, now, alg)
	if err != nil {
		return nil, err
	}
	active.State, active.ActivatedAt = KeyActive, now
	next, err := s.newKey(tenant, now, alg)
	if err != nil {
		return nil, err
	}
	return &KeyRing{Tenant: tenant, Keys: []SigningKey{*active, *next}}, nil
}

// errNoKEK is the error of a server that cannot seal or open keys.
func errNoKEK() error {
	return &engine.Error{
		Code:        engine.CodeServerError,
		Description: "this server cannot sign JWT access tokens: it has no key-encryption key (" + kekFlag + ")",
		Err:         errors.New("no key-encryption key is configured (" + kekFlag + "): tenant signing keys cannot be created or used"),
	}
}

// newKey generates a key pair in state next, its private part sealed.
func (s *Server) newKey(tenant string, now time.Time, alg string) (*SigningKey, error) {
	kid, err := randomToken(s.rand, 12)
	if err != nil {
		return nil, err
	}
	var priv crypto.Signer
	switch alg {
	case algRS256:
		priv, err = rsa.GenerateKey(s.rand, 2048)
	case algES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), s.rand)
	default:
		err = fmt.Errorf("unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate a signing key: %w", err)
	}
	pub, err := jose.PublicJWK(priv.Public(), kid, alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode a signing key: %w", err)
	}
	sealed, err := s.kek.Seal(der, keyContext(tenant, kid))
	if err != nil {
		return nil, err
	}
	return &SigningKey{ID: kid, Algorithm: alg, State: KeyNext, CreatedAt: now, Public: pub, Private: sealed}, nil
}

// keyContext binds a sealed private key to its tenant and kid: a sealed
// key copied to another tenant or key does not open.
func keyContext(tenant, kid string) []byte {
	return []byte("tenant signing key\x00" + tenant + "\x00" + kid)
}

// decodeRing turns a stored ring into a loadedRing: the published keys
// parsed, the active key's private part opened.
func (s *Server) decodeRing(ring *KeyRing) (*loadedRing, error) {
	now := s.now()
	l := &loadedRing{ring: ring, loaded: now, public: map[string]publicKey{}}
	jwks := []json.RawMessage{}
	if ring != nil {
		for i := range ring.Keys {
			k := &ring.Keys[i]
			if !published(k, now) {
				continue
			}
			pub, err := jose.ParsePublicJWK(k.Public)
			if err != nil {
				return nil, storeError("key ring", fmt.Errorf("key %s: %w", k.ID, err))
			}
			l.public[k.ID] = publicKey{alg: k.Algorithm, key: pub}
			jwks = append(jwks, k.Public)
			if k.State == KeyActive {
				l.active = k
			}
		}
	}
	if l.active != nil {
		l.signer, l.signErr = s.openKey(ring.Tenant, l.active)
	}
	var err error
	if l.jwks, err = json.Marshal(map[string][]json.RawMessage{"keys": jwks}); err != nil {
		return nil, err
	}
	return l, nil
}

// published reports whether a key is in the tenant's JWK Set.
func published(k *SigningKey, now time.Time) bool {
	return k.State != KeyRetired || now.Before(k.RetireAt)
}

// openKey opens a sealed private key.
func (s *Server) openKey(tenant string, k *SigningKey) (crypto.Signer, error) {
	if s.kek == nil {
		return nil, errNoKEK()
	}
	der, err := s.kek.Open(k.Private, keyContext(tenant, k.ID))
	if err != nil {
		return nil, &engine.Error{
			Code:        engine.CodeServerError,
			Description: "the tenant's signing key cannot be opened with this server's key-encryption keys",
			Err:         fmt.Errorf("signing key %s of tenant %s: %w (check %s)", k.ID, tenant, err, kekFlag),
		}
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, storeError("key ring", fmt.Errorf("signing key %s: %w", k.ID, err))
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, storeError("key ring", fmt.Errorf("signing key %s is a %T", k.ID, priv))
	}
	return signer, nil
}

// signer returns the tenant's active key and its private part, creating
// the tenant's ring on first need.
func (s *Server) signer(ctx context.Context, tenant string) (*SigningKey, crypto.Signer, error) {
	l, err := s.keys(ctx, tenant, true, "")
	if err != nil {
		return nil, nil, err
	}
	if l.signErr != nil {
		return nil, nil, l.signErr
	}
	if l.signer == nil {
		return nil, nil, storeError("key ring", fmt.Errorf("tenant %s's key ring has no active key", tenant))
	}
	return l.active, l.signer, nil
}

// JWKS returns the tenant's JWK Set: its next, active and retired keys'
// public parts. A tenant that has never signed has an empty set.
func (s *Server) JWKS(ctx context.Context, tenant string) ([]byte, error) {
	if _, err := s.reg.Settings(tenant); err != nil {
		return nil, err
	}
	l, err := s.keys(ctx, tenant, false, "")
	if err != nil {
		return nil, err
	}
	return l.jwks, nil
}

// KeyInfo describes a signing key to an operator: never its private part.
type KeyInfo struct {
	ID          string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	State       KeyState  `json:"state"`
	CreatedAt   time.Time `json:"created_at"`
	ActivatedAt time.Time `json:"activated_at,omitzero"`
	RetiredAt   time.Time `json:"retired_at,omitzero"`
	// RetireAt is when a retired key leaves the JWK Set.
	RetireAt time.Time `json:"retire_at,omitzero"`
	// KEK is the ID of the key-encryption key that sealed the private key.
	KEK string `json:"kek"`
}

// SigningKeys lists the tenant's published signing keys, read from the
// store (not the cache): next first, then active, then retired.
func (s *Server) SigningKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if _, err := s.reg.Settings(tenant); err != nil {
		return nil, err
	}
	ring, err := s.store.KeyRing(ctx, tenant)
	if errors.Is(err, engine.ErrNotFound) {
		return []KeyInfo{}, nil
	}
	if err != nil {
		return nil, storeError("key ring", err)
	}
	return s.describe(ring), nil
}

// describe lists a ring's published keys for an operator.
func (s *Server) describe(ring *KeyRing) []KeyInfo {
	now := s.now()
	infos := []KeyInfo{}
	for _, state := range []KeyState{KeyNext, KeyActive, KeyRetired} {
		for i := range ring.Keys {
			k := &ring.Keys[i]
			if k.State != state || !published(k, now) {
				continue
			}
			kek, _ := seal.KeyID(k.Private)
			infos = append(infos, KeyInfo{
				ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: k.CreatedAt,
				ActivatedAt: k.ActivatedAt, RetiredAt: k.RetiredAt, RetireAt: k.RetireAt, KEK: kek,
			})
		}
	}
	return infos
}

// AuditKeysRotated: an operator rotated a tenant's signing keys.
const AuditKeysRotated = "signing_key.rotated"

// RotateSigningKeys rotates the tenant's keys: the active key retires
// (published until every token it signed has expired), the next key
// becomes active, and a new next key is published. The next key must have
// been published for the publication lead first (else conflict), so that
// every resource server has it before it signs. A tenant without keys gets
// its first ring. It returns the keys after the rotation.
func (s *Server) RotateSigningKeys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	if _, err := s.reg.Settings(tenant); err != nil {
		return nil, err
	}
	if s.kek == nil {
		return nil, errNoKEK()
	}
	for range 3 {
		ring, err := s.store.KeyRing(ctx, tenant)
		if errors.Is(err, engine.ErrNotFound) {
			ring = &KeyRing{Tenant: tenant}
		} else if err != nil {
			return nil, storeError("key ring", err)
		}
		rev := ring.Revision
		detail, err := s.rotate(ring)
		if err != nil {
			return nil, err
		}
		err = s.store.PutKeyRing(ctx, ring, rev)
		if errors.Is(err, engine.ErrRevisionMismatch) {
			continue
		}
		if err != nil {
			return nil, storeError("put key ring", err)
		}
		s.rings.forget(tenant)
		actor, _ := engine.Actor(ctx)
		s.audit(ctx, engine.AuditEvent{Tenant: tenant, Type: AuditKeysRotated, Actor: cmp.Or(actor, "admin"), Detail: detail})
		return s.describe(ring), nil
	}
	return nil, engine.Errorf(engine.CodeConflict, "the tenant's signing keys changed during the rotation; retry")
}

// rotate changes a ring in place and says what it did.
func (s *Server) rotate(ring *KeyRing) (string, error) {
	now := s.now().UTC()
	if len(ring.Keys) == 0 {
		first, err := s.newRing(ring.Tenant)
		if err != nil {
			return "", err
		}
		ring.Keys = first.Keys
		return fmt.Sprintf("created: active %s, next %s", ring.Keys[0].ID, ring.Keys[1].ID), nil
	}
	ring.Keys = slices.DeleteFunc(ring.Keys, func(k SigningKey) bool { return !published(&k, now) })
	next := slices.IndexFunc(ring.Keys, func(k SigningKey) bool { return k.State == KeyNext })
	if next < 0 {
		return "", storeError("key ring", fmt.Errorf("tenant %s's key ring has no next key", ring.Tenant))
	}
	if from := ring.Keys[next].CreatedAt.Add(s.keyLead); now.Before(from) {
		return "", engine.Errorf(engine.CodeConflict, "the next key %s was published at %s; it may sign from %s, once resource servers have fetched it (rotate then)",
			ring.Keys[next].ID, ring.Keys[next].CreatedAt.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if len(ring.Keys) >= maxRingKeys {
		return "", engine.Errorf(engine.CodeConflict, "the tenant has %d published keys; rotate again once retired keys have expired", len(ring.Keys))
	}
	detail := ""
	for i := range ring.Keys {
		if k := &ring.Keys[i]; k.State == KeyActive {
			k.State, k.RetiredAt = KeyRetired, now
			// Tokens it signed, here or on a replica that has not yet seen
			// the rotation, expire by then.
			k.RetireAt = now.Add(engine.MaxAccessTokenLifetime + s.keyCacheTTL + keySkew)
			detail = "retired " + k.ID + "; "
		}
	}
	k := &ring.Keys[next]
	k.State, k.ActivatedAt = KeyActive, now
	fresh, err := s.newKey(ring.Tenant, now, s.signingAlg(ring.Tenant))
	if err != nil {
		return "", err
	}
	ring.Keys = append(ring.Keys, *fresh)
	return detail + "active " + k.ID + "; next " + fresh.ID, nil
}

// tenantSigningAlg is the algorithm the tenant's settings choose for new
// keys.
func tenantSigningAlg(settings engine.Settings) string { return settings.AccessTokens().SigningAlg }
