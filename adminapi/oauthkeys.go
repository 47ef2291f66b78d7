package adminapi

import (
	"context"

	"github.com/registrar-dev/registrar/oauth"
)

// OAuthSigningKeys adapts the authorization server's key management to
// the admin API's SigningKeys.
func OAuthSigningKeys(s *oauth.Server) SigningKeys { return oauthKeys{s} }

// oauthKeys is the adapter of OAuthSigningKeys.
type oauthKeys struct{ s *oauth.Server }

// SigningKeys implements SigningKeys.
func (k oauthKeys) SigningKeys(ctx context.Context, tenant string) ([]SigningKey, error) {
	keys, err := k.s.SigningKeys(ctx, tenant)
	return signingKeysOf(keys), err
}

// RotateSigningKeys implements SigningKeys.
func (k oauthKeys) RotateSigningKeys(ctx context.Context, tenant string) ([]SigningKey, error) {
	keys, err := k.s.RotateSigningKeys(ctx, tenant)
	return signingKeysOf(keys), err
}

// signingKeysOf converts the authorization server's key descriptions.
func signingKeysOf(keys []oauth.KeyInfo) []SigningKey {
	out := make([]SigningKey, len(keys))
	for i, k := range keys {
		out[i] = SigningKey{
			ID: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt,
			ActivatedAt: k.ActivatedAt, RetiredAt: k.RetiredAt, RetireAt: k.RetireAt, KEK: k.KEK,
		}
	}
	return out
}
