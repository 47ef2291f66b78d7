package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// TenantRecord is a tenant created through the admin API, as the store keeps
// it. Tenants of the configuration file have no record.
type TenantRecord struct {
	Name     string   `json:"name"`
	Settings Settings `json:"settings"`
	// CreatedAt and UpdatedAt are set by the caller; a store keeps the
	// CreatedAt of the record a put replaces.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Revision is set by the store: 1 when created, one more on each put.
	Revision int64 `json:"revision"`
	// Deleting is set by the store while DeleteTenant runs or after it
	// failed part way.
	Deleting bool `json:"deleting,omitempty"`
}

// Clone returns a deep copy.
func (t *TenantRecord) Clone() *TenantRecord {
	d := *t
	d.Settings = t.Settings.clone()
	return &d
}

// AdminToken is a tenant admin token as the store keeps it: a bearer token
// for the admin API that can manage one tenant only, minted by the global
// admin. The token itself is never kept, only its digest, as the ID.
type AdminToken struct {
	Tenant string `json:"tenant"`
	// ID is HashToken of the token.
	ID string `json:"id"`
	// Description says whom the token was given to.
	Description string    `json:"description,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; zero means never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Clone returns a copy.
func (t *AdminToken) Clone() *AdminToken {
	d := *t
	return &d
}

// clone returns a deep copy of the settings.
func (s Settings) clone() Settings {
	d := s
	d.DefaultPolicies = slices.Clone(s.DefaultPolicies)
	d.ExtraClientMetadata = slices.Clone(s.ExtraClientMetadata)
	d.GrantTypesSupported = slices.Clone(s.GrantTypesSupported)
	d.ResponseTypesSupported = slices.Clone(s.ResponseTypesSupported)
	d.TokenEndpointAuthMethodsSupported = slices.Clone(s.TokenEndpointAuthMethodsSupported)
	d.SigningAlgValuesSupported = slices.Clone(s.SigningAlgValuesSupported)
	d.SubjectTypesSupported = slices.Clone(s.SubjectTypesSupported)
	d.ScopesSupported = slices.Clone(s.ScopesSupported)
	d.ACRValuesSupported = slices.Clone(s.ACRValuesSupported)
	d.ClientDefaults = cloneRaw(s.ClientDefaults)
	d.PolicyConfig = cloneRaw(s.PolicyConfig)
	if s.Management != nil {
		on := *s.Management
		d.Management = &on
	}
	return d
}

// Where a tenant's settings come from (TenantInfo.Source).
const (
	// SourceConfig: the configuration file; read-only through the admin API.
	SourceConfig = "config"
	// SourceBuiltin: the default tenant with default settings, neither
	// configured nor stored.
	SourceBuiltin = "builtin"
	// SourceAdmin: created through the admin API, kept in the store.
	SourceAdmin = "admin-api"
)

// TenantInfo is a tenant as the admin API shows it. Its settings never
// include a static initial access token in the clear, only its digest.
type TenantInfo struct {
	Name     string
	Source   string
	Settings Settings
	// Revision, CreatedAt and UpdatedAt are set for SourceAdmin.
	Revision             int64
	CreatedAt, UpdatedAt time.Time
	// Deleting reports a deletion that has not finished.
	Deleting bool
}

// withoutSecrets returns settings with a clear static token replaced by its
// digest.
func withoutSecrets(s Settings) Settings {
	s = s.clone()
	if s.StaticInitialAccessToken != "" {
		s.StaticInitialAccessTokenSHA256 = HashToken(s.StaticInitialAccessToken)
		s.StaticInitialAccessToken = ""
	}
	return s
}

func (t *tenant) info() TenantInfo {
	return TenantInfo{
		Name: t.name, Source: t.source, Settings: withoutSecrets(t.settings),
		Revision: t.revision, CreatedAt: t.createdAt, UpdatedAt: t.updatedAt,
	}
}

func recordInfo(rec *TenantRecord) TenantInfo {
	return TenantInfo{
		Name: rec.Name, Source: SourceAdmin, Settings: withoutSecrets(rec.Settings),
		Revision: rec.Revision, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
		Deleting: rec.Deleting,
	}
}

// RefreshEvery calls Refresh every interval until ctx is done, logging a
// failure once until the next success.
func (r *Registrar) RefreshEvery(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := r.Refresh(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			r.log.WarnContext(ctx, "tenant refresh failed; serving the tenants last loaded", "err", err)
			failing = true
		case err == nil && failing:
			r.log.InfoContext(ctx, "tenant refresh works again")
			failing = false
		}
	}
}

// checkServices checks that the Registrar has what the tenant's settings
// need (a rate limiter, a secret sealer, a URI checker, a statement
// verifier) and prepares them.
func (r *Registrar) checkServices(t *tenant) error {
	if err := r.checkLimiter(t); err != nil {
		return err
	}
	if err := r.checkSealer(t); err != nil {
		return err
	}
	if err := r.checkURIServices(t); err != nil {
		return err
	}
	return r.trustStatements(t)
}

// checkLimiter refuses rate limits that no Limiter can enforce.
func (r *Registrar) checkLimiter(t *tenant) error {
	l := t.settings.RegistrationRateLimit
	if r.limiter == nil && (!l.PerIP.IsZero() || !l.PerTenant.IsZero()) {
		return errors.New("registration_rate_limit is set but this Registrar has no rate limiter")
	}
	if l := t.settings.TokenRateLimit; r.limiter == nil && (!l.PerIP.IsZero() || !l.PerTenant.IsZero()) {
		return errors.New("token_rate_limit is set but this Registrar has no rate limiter")
	}
	return nil
}

// Tenants returns every tenant, those of the configuration file and those
// of the store (read afresh), sorted by name.
func (r *Registrar) Tenants(ctx context.Context) ([]TenantInfo, error) {
	recs, err := r.store.Tenants(ctx)
	if err != nil {
		return nil, storeError("list tenants", err)
	}
	byName := map[string]TenantInfo{}
	for name, t := range r.config {
		byName[name] = t.info()
	}
	for _, rec := range recs {
		if c, ok := byName[rec.Name]; ok && c.Source == SourceConfig {
			continue
		}
		byName[rec.Name] = recordInfo(rec)
	}
	out := slices.Collect(maps.Values(byName))
	slices.SortFunc(out, func(a, b TenantInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Tenant returns one tenant, read afresh from the store when it is stored.
func (r *Registrar) Tenant(ctx context.Context, name string) (TenantInfo, error) {
	if t, ok := r.config[name]; ok && t.source == SourceConfig {
		return t.info(), nil
	}
	if !ValidTenantName(name) {
		return TenantInfo{}, errNoTenant(name)
	}
	rec, err := r.store.Tenant(ctx, name)
	switch {
	case err == nil:
		return recordInfo(rec), nil
	case !errors.Is(err, ErrNotFound):
		return TenantInfo{}, storeError("read tenant", err)
	}
	if t, ok := r.config[name]; ok {
		return t.info(), nil
	}
	return TenantInfo{}, errNoTenant(name)
}

// PutTenant creates or replaces a stored tenant (docs/configuration.md#tenants) and reports
// whether it created it. The settings are checked as the configuration
// file's are, and every policy module they name must be one the tenant can
// use. A static initial access token is kept only as its digest. With
// ifRevision non-zero the put happens only if the stored revision is that
// one (HTTP If-Match). The change is served here at once and by other
// replicas at their next Refresh.
func (r *Registrar) PutTenant(ctx context.Context, name string, s Settings, ifRevision int64) (TenantInfo, bool, error) {
	if !ValidTenantName(name) {
		return TenantInfo{}, false, Errorf(CodeInvalidRequest, "tenant name %q: use 1-63 lower-case letters, digits and inner hyphens, starting and ending with a letter or digit", truncate(name, 64))
	}
	if t, ok := r.config[name]; ok && t.source == SourceConfig {
		return TenantInfo{}, false, Errorf(CodeConflict, "tenant %q is defined in the configuration file; change it there", name)
	}
	t, err := compileTenant(name, s, r.keys, r.hosts)
	if err == nil {
		err = r.checkServices(t)
	}
	if err != nil {
		return TenantInfo{}, false, &Error{Code: CodeInvalidRequest, Description: strings.TrimPrefix(err.Error(), fmt.Sprintf("tenant %q: ", name)), Err: err}
	}
	if err := r.checkModules(name, s); err != nil {
		return TenantInfo{}, false, err
	}
	s = withoutSecrets(s)
	now := r.now()
	rec, err := r.store.PutTenant(ctx, &TenantRecord{Name: name, Settings: s, CreatedAt: now, UpdatedAt: now}, ifRevision)
	switch {
	case errors.Is(err, ErrRevisionMismatch):
		return TenantInfo{}, false, Errorf(CodePreconditionFailed, "tenant %q is not at revision %d (If-Match); read it again", name, ifRevision)
	case errors.Is(err, ErrDeleting):
		return TenantInfo{}, false, Errorf(CodeConflict, "tenant %q is being deleted; repeat the DELETE to finish it first", name)
	case err != nil:
		return TenantInfo{}, false, storeError("put tenant", err)
	}
	created := rec.Revision == 1
	t.settings = rec.Settings
	r.install(t, rec)
	typ := AuditTenantUpdated
	if created {
		typ = AuditTenantCreated
	}
	r.audit(ctx, AuditEvent{Tenant: name, Type: typ, Detail: fmt.Sprintf("revision %d", rec.Revision)})
	return recordInfo(rec), created, nil
}

// checkModules refuses settings that name a policy module the tenant cannot
// use for the hook the setting needs.
func (r *Registrar) checkModules(tenant string, s Settings) error {
	type use struct {
		field, name string
		hook        Hook
	}
	uses := []use{
		{"id_factory", s.IDFactory, HookIDFactory},
		{"secret_factory", s.SecretFactory, HookSecretFactory},
		{"issue_registration_access_token", s.IssueRegistrationAccessToken.Module, HookIssueRAT},
		{"rotate_registration_access_token", s.RotateRegistrationAccessToken.Module, HookRotateRAT},
		{"issue_access_token", s.IssueAccessToken.Module, HookIssueAccessToken},
	}
	for _, p := range s.DefaultPolicies {
		uses = append(uses, use{"default_policies", p, HookPolicy})
	}
	for _, u := range uses {
		if u.name == "" {
			continue
		}
		if r.modules == nil || !r.modules.Has(tenant, u.name, u.hook) {
			return Errorf(CodeInvalidRequest, "%s: tenant %q has no policy module %q with a %s hook", u.field, tenant, u.name, u.hook)
		}
	}
	return nil
}

// DeleteTenant deletes a stored tenant with its clients, initial access
// tokens and admin tokens. It is immediate: when it returns, every one of
// them is gone, and no replica can create new ones. The tenant's audit log
// is kept. Tenants of the configuration file and the default tenant cannot
// be deleted. A deletion that failed part way is finished by calling it
// again.
func (r *Registrar) DeleteTenant(ctx context.Context, name string) error {
	if name == DefaultTenant {
		return Errorf(CodeConflict, "the default tenant always exists; replace its settings instead")
	}
	if t, ok := r.config[name]; ok && t.source == SourceConfig {
		return Errorf(CodeConflict, "tenant %q is defined in the configuration file; remove it there", name)
	}
	if !ValidTenantName(name) {
		return errNoTenant(name)
	}
	if _, err := r.store.Tenant(ctx, name); errors.Is(err, ErrNotFound) {
		return errNoTenant(name)
	} else if err != nil {
		return storeError("read tenant", err)
	}
	if err := r.store.DeleteTenant(ctx, name); err != nil {
		return storeError("delete tenant", err)
	}
	r.uninstall(name)
	if r.tenantDeleted != nil {
		r.tenantDeleted(ctx, name)
	}
	r.audit(ctx, AuditEvent{Tenant: name, Type: AuditTenantDeleted})
	return nil
}

// CheckModules reports the first tenant of the configuration whose
// settings name a policy module it cannot use for the hook the setting
// needs. Every registration of such a tenant would fail with server_error,
// so serve refuses to start with one. (A module removed while serving fails
// the requests that need it, with server_error naming it.)
func (r *Registrar) CheckModules() error {
	names := slices.Sorted(maps.Keys(r.config))
	for _, name := range names {
		if err := r.checkModules(name, r.config[name].settings); err != nil {
			return fmt.Errorf("tenant %q: %s", name, AsError(err).Description)
		}
	}
	return nil
}
