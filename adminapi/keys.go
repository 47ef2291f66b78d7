package adminapi

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/httpio"
)

// SigningKeys lists and rotates the tenants' access token signing keys.
// cmd/registrar adapts the authorization server (oauth.Server) to it.
type SigningKeys interface {
	// SigningKeys returns the tenant's published keys, next first.
	SigningKeys(ctx context.Context, tenant string) ([]SigningKey, error)
	// RotateSigningKeys retires the active key, makes the next one active
	// and publishes a new next key; it returns the keys after.
	RotateSigningKeys(ctx context.Context, tenant string) ([]SigningKey, error)
}

// SigningKey describes a published signing key; never its private part.
type SigningKey struct {
	ID        string
	Algorithm string
	// State is next, active or retired.
	State       string
	CreatedAt   time.Time
	ActivatedAt time.Time
	RetiredAt   time.Time
	// RetireAt is when a retired key leaves the tenant's JWK Set.
	RetireAt time.Time
	// KEK is the ID of the key-encryption key that sealed the private key.
	KEK string
}

// keyView is a signing key as the admin API shows it.
type keyView struct {
	ID          string    `json:"kid"`
	Algorithm   string    `json:"alg"`
	State       string    `json:"state"`
	CreatedAt   timestamp `json:"created_at"`
	ActivatedAt timestamp `json:"activated_at,omitzero"`
	RetiredAt   timestamp `json:"retired_at,omitzero"`
	RetireAt    timestamp `json:"retire_at,omitzero"`
	KEK         string    `json:"kek"`
}

// keysView is the answer of both key routes.
type keysView struct {
	Tenant string    `json:"tenant"`
	Keys   []keyView `json:"keys"`
}

func viewKeys(tenant string, keys []SigningKey) keysView {
	v := keysView{Tenant: tenant, Keys: make([]keyView, len(keys))}
	for i, k := range keys {
		v.Keys[i] = keyView{
			ID: k.ID, Algorithm: k.Algorithm, State: k.State, CreatedAt: timestamp(k.CreatedAt),
			ActivatedAt: timestamp(k.ActivatedAt), RetiredAt: timestamp(k.RetiredAt), RetireAt: timestamp(k.RetireAt), KEK: k.KEK,
		}
	}
	return v
}

// needKeys refuses the key routes for an unknown tenant, or when no
// authorization server is wired.
func (h *handler) needKeys(tenant string) error {
	if !h.reg.HasTenant(tenant) {
		return engine.Errorf(engine.CodeNotFound, "no tenant named %q", truncate(tenant, 64))
	}
	if h.keys == nil {
		return engine.Errorf(engine.CodeConflict, "this Registrar runs no token endpoint, so it has no signing keys")
	}
	return nil
}

func (h *handler) listKeys(w http.ResponseWriter, r *http.Request) error {
	tenant := mux.Vars(r)["tenant"]
	if err := h.needKeys(tenant); err != nil {
		return err
	}
	keys, err := h.keys.SigningKeys(r.Context(), tenant)
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, viewKeys(tenant, keys))
	return nil
}

func (h *handler) rotateKeys(w http.ResponseWriter, r *http.Request) error {
	tenant := mux.Vars(r)["tenant"]
	if err := h.needKeys(tenant); err != nil {
		return err
	}
	keys, err := h.keys.RotateSigningKeys(r.Context(), tenant)
	if err != nil {
		return err
	}
	httpio.WriteJSON(w, http.StatusOK, viewKeys(tenant, keys))
	return nil
}
