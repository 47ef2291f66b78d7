package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// RegisterRequest is an RFC 7591 client registration request.
type RegisterRequest struct {
	Tenant string
	// Token is the bearer token presented, "" if none.
	Token string
	// Body is the request body: a JSON object of client metadata, or a
	// signed request, as Form says.
	Body []byte
	// Form is the body's form, from its Content-Type. Default FormJSON.
	Form BodyForm
	// Issuer is the tenant's issuer: the aud of a signed request.
	Issuer string
	// ClientCertSubject is the DER of the subject of the client
	// certificate the request came with (mutual TLS), nil without one:
	// under a profile that checks subject DNs, a tls_client_auth client
	// registered over mutual TLS must register that subject.
	ClientCertSubject []byte
	RemoteIP          string
}

// grant is what authenticating a registration request established.
type grant struct {
	facts TokenFacts
	iat   *InitialAccessToken // nil for open and static registrations
	// cached: iat is a remembered record (iatCache), not read from the
	// store for this request.
	cached bool
}

// Register runs the registration pipeline of RFC 7591 §3: authenticate the
// initial access token, decode the metadata, apply the tenant's
// client_defaults, run the policies, validate, make the client ID and
// secret, decide on a registration access token, and store the client -
// consuming one use of the initial access token in the same atomic write.
//
// A registration refused after authentication is recorded in the audit log
// as client.rejected, naming the policy that refused it, if one did.
func (r *Registrar) Register(ctx context.Context, req RegisterRequest) (*ClientInformation, error) {
	t, err := r.tenant(req.Tenant)
	if err != nil {
		return nil, err
	}
	if err := r.limitRegistration(ctx, t, req.RemoteIP); err != nil {
		return nil, err
	}
	g, err := r.authenticateRegistration(ctx, t, req.Token)
	if err != nil {
		return nil, err
	}
	ctx = WithActor(ctx, g.actor())
	run := r.newRun(t)
	defer run.release()
	info, err := r.register(ctx, t, g, req, run)
	if err != nil {
		err = r.confirmGrant(ctx, t, g, err)
		r.auditRejection(ctx, t, "", g.facts.ID, run, err)
		return nil, err
	}
	return info, nil
}

// actor names the caller of a registration for the audit log.
func (g grant) actor() string {
	switch g.facts.Kind {
	case "initial_access_token":
		return "initial-access-token:" + g.facts.ID
	case "static":
		return "static-token"
	}
	return "anonymous"
}

// register is Register after authentication.
func (r *Registrar) register(ctx context.Context, t *tenant, g grant, req RegisterRequest, run *policyRun) (_ *ClientInformation, err error) {
	facts := RequestFacts{RemoteIP: req.RemoteIP}
	md, ratPolicies, vs, err := r.registrationMetadata(ctx, t, g, facts, req, run)
	if err != nil {
		return nil, err
	}
	if !r.storeMarks && vs != nil {
		// The jtis are spent before the create checks the token.
		if err := r.confirmGrant(ctx, t, g, nil); err != nil {
			return nil, err
		}
	}
	marks, err := r.spendJTIs(ctx, t, vs)
	if err != nil {
		return nil, err
	}
	if r.storeMarks && vs != nil {
		// The statement's outcome is known once the create has spent
		// its jti (or found it spent).
		defer func() { r.observeStatement(ctx, t, replayed(err)) }()
	}
	fin := &FactoryInput{Tenant: t.name, Metadata: md, Token: g.facts, Request: facts}
	var secret string
	if md.needsSecret() {
		if secret, err = r.newSecret(ctx, t, run, fin); err != nil {
			return nil, err
		}
	}
	now := r.now()
	c := &Client{
		Tenant: t.name, IssuedAt: now, UpdatedAt: now, Metadata: md,
		RegistrationPolicies: ratPolicies,
	}
	if g.iat != nil {
		c.IssuedBy = g.iat.ID
	}
	if secret != "" {
		c.SecretHash = HashToken(secret)
	}
	if v := t.settings.RegistrationValidity; v > 0 {
		c.ExpiresAt = now.Add(timeDuration(v))
	}
	rat, err := r.createClient(ctx, t, g, run, fin, c, secret, vs, marks)
	if err != nil {
		return nil, err
	}
	return &ClientInformation{Client: c, Secret: secret, RegistrationAccessToken: rat}, nil
}

// registrationMetadata turns a registration request's body into the
// metadata to store: the tenant's defaults, hosts in stored form, the
// policies, then validation. A software statement, when the tenant
// verifies them, is verified first and its claims override the request's
// members (RFC 7591 §2.3); a signed request is verified with the keys its
// statement names. The statement's profile prepares the members before
// and checks the metadata after. It returns the policies the registration
// access token will carry and the verified statement, if any.
func (r *Registrar) registrationMetadata(ctx context.Context, t *tenant, g grant, facts RequestFacts, req RegisterRequest, run *policyRun) (Metadata, []string, *verifiedStatement, error) {
	obj, vs, err := r.requestObject(ctx, t, req.Form, req.Body, req.Issuer, nil)
	if err != nil {
		return Metadata{}, nil, nil, err
	}
	stripServerManaged(obj)
	if vs == nil {
		if vs, err = r.checkStatement(ctx, t, g, obj); err != nil {
			return Metadata{}, nil, nil, err
		}
	}
	sc, err := t.profileStatement(vs)
	if err != nil {
		return Metadata{}, nil, nil, err
	}
	if vs != nil {
		vs.apply(obj)
	}
	if sc != nil {
		t.profile.prepare(obj, *sc)
	}
	t.applyDefaults(obj)
	// Policies see hosts in the form that will be stored.
	if err := normalizeHosts(obj, r.hosts); err != nil {
		return Metadata{}, nil, nil, err
	}
	requested := memberNames(obj)
	obj, ratPolicies, err := r.runPolicies(ctx, t, run, &PolicyInput{
		Phase: PhaseRegister, Tenant: t.name, Metadata: obj,
		Token: g.facts, Request: facts, Policies: g.facts.Policies,
		SoftwareStatement: vs.facts(),
	})
	if err != nil {
		return Metadata{}, nil, nil, err
	}
	if vs != nil {
		// The statement is stored and echoed as it was verified
		// (RFC 7591 §3.2.1), whatever a policy did to the member.
		obj["software_statement"], _ = json.Marshal(vs.raw)
	}
	md, err := t.validate(obj, r.keys, r.hosts)
	if err != nil {
		return Metadata{}, nil, nil, err
	}
	if sc != nil {
		if err := t.profile.check(md, *sc, t.roleScopes); err != nil {
			return Metadata{}, nil, nil, err
		}
		if err := t.profile.checkCertificate(md, req.ClientCertSubject); err != nil {
			return Metadata{}, nil, nil, err
		}
	}
	if err := r.checkClientURIs(ctx, t, &md, nil); err != nil {
		return Metadata{}, nil, nil, err
	}
	r.warnDropped(ctx, t, g.facts.Policies, requested, obj)
	return md, ratPolicies, vs, nil
}

// createClient gives c its ID and registration access token, seals its
// secret when it must be kept sealed (bound to the ID), and stores it,
// returning the token. A built-in ID that collides is drawn again; a
// reserved or module-made one is not: the collision would repeat.
//
// Under a software_id_policy other than allow, the store refuses a second
// live client with the same software_id in the same atomic write; under
// "replace", a registration that may replace the live client takes its ID
// (softwareIDOptions).
func (r *Registrar) createClient(ctx context.Context, t *tenant, g grant, run *policyRun, fin *FactoryInput, c *Client, secret string, vs *verifiedStatement, marks []Mark) (string, error) {
	replace := g.iat != nil && g.iat.ClientID != "" && g.iat.Replacement
	unique, bySoftwareID, err := r.softwareIDOptions(ctx, t, c, vs)
	if err != nil {
		return "", err
	}
	event := EventRegister
	if replace || bySoftwareID {
		event = EventReplace
	}
	for attempt := 0; ; attempt++ {
		id, builtin := c.ID, false
		if !bySoftwareID {
			if id, builtin, err = r.clientID(ctx, t, run, g, fin); err != nil {
				return "", err
			}
		}
		c.ID = id
		if err := r.sealSecret(c, secret); err != nil {
			return "", err
		}
		rat, err := r.registrationToken(ctx, t, g, run, fin, c)
		if err != nil {
			return "", err
		}
		c.History = nil
		c.record(Provenance{Event: event, At: c.IssuedAt, Token: c.IssuedBy, Policies: run.ran, Hooks: slices.Clone(run.hooks), SoftwareStatement: vs.provenance()})
		ev := AuditEvent{Tenant: t.name, Type: AuditClientRegistered, ClientID: c.ID, TokenID: g.facts.ID, Policies: run.ran}
		r.complete(ctx, &ev)
		opts := CreateOptions{Replace: replace || bySoftwareID, MaxClients: t.settings.MaxClients, UniqueSoftwareID: unique, Marks: marks}
		if r.storeAudits {
			opts.Audit = &ev
		}
		err = r.store.CreateClient(ctx, c, opts)
		if err == nil {
			r.logAudit(ctx, &ev)
			if !r.storeAudits {
				r.appendAudit(ctx, &ev)
			}
			return rat, nil
		}
		if errors.Is(err, ErrAlreadyExists) && builtin && attempt < 3 {
			continue
		}
		return "", createError(err, t, g, c)
	}
}

// registrationToken issues a registration access token for c when the
// tenant's management is on and its decision says so, and returns it.
func (r *Registrar) registrationToken(ctx context.Context, t *tenant, g grant, run *policyRun, fin *FactoryInput, c *Client) (string, error) {
	if !t.managementOn() {
		return "", nil
	}
	issue, err := r.decide(ctx, t, run, t.settings.IssueRegistrationAccessToken, HookIssueRAT, func() *DecisionInput {
		return &DecisionInput{
			Phase: PhaseRegister, Tenant: t.name, ClientID: c.ID, Metadata: fin.Metadata, Token: g.facts, Request: fin.Request,
		}
	})
	if err != nil || !issue {
		return "", err
	}
	rat, err := newToken(r.rand)
	if err != nil {
		return "", serverError("internal server error", err)
	}
	c.RegistrationTokenHash = HashToken(rat)
	return rat, nil
}

// createError maps the store's refusal of a new client to the OAuth error
// the client receives.
func createError(err error, t *tenant, g grant, c *Client) error {
	id := c.ID
	switch {
	case errors.Is(err, ErrSoftwareIDTaken):
		return errSoftwareIDTaken(c.Metadata.SoftwareID, err.Error())
	case errors.Is(err, ErrReplayed):
		return replayError(err)
	case errors.Is(err, ErrAlreadyExists) && g.iat != nil && g.iat.ClientID != "":
		return Errorf(CodeInvalidRequest, "client_id %q is already registered and the initial access token does not allow replacement", id)
	case errors.Is(err, ErrAlreadyExists):
		return serverError("the client ID factory produced an ID that is taken", err)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrTokenExhausted):
		return errInvalidToken(err) // the token expired, was revoked or used up meanwhile
	case errors.Is(err, ErrQuotaExceeded):
		return &Error{Code: CodeAccessDenied, Description: fmt.Sprintf("tenant %q has reached its limit of %d clients", t.name, t.settings.MaxClients), Err: err}
	case errors.Is(err, ErrNoTenant):
		return &Error{Code: CodeNotFound, Description: fmt.Sprintf("no tenant named %q", t.name), Err: err}
	}
	return storeError("create client", err)
}

// RequestMetadata decodes the body of a registration request into the
// metadata that the tenant's client_defaults, then its policies, receive:
// a strict JSON object (DecodeObject: member names unescaped, duplicates
// refused), with no access token in it, less the members only the server
// sets (RFC 7591 §3.1). registrar policy run builds its input with it.
func RequestMetadata(body []byte) (map[string]json.RawMessage, error) {
	obj, err := decodeRequest(body)
	if err != nil {
		return nil, err
	}
	stripServerManaged(obj)
	return obj, nil
}

// stripServerManaged removes the members only the server sets (RFC 7591
// §3.1: the server assigns these).
func stripServerManaged(obj map[string]json.RawMessage) {
	for _, name := range serverManaged {
		delete(obj, name)
	}
}

// decodeRequest decodes the JSON object of a registration or update
// request. A bearer token inside it is refused (RFC 6750 §2: we accept only
// the Authorization header), so that it is never mistaken for metadata.
func decodeRequest(body []byte) (map[string]json.RawMessage, error) {
	obj, err := DecodeObject(body)
	if err != nil {
		return nil, err
	}
	if _, ok := obj["access_token"]; ok {
		return nil, Errorf(CodeInvalidRequest, "access tokens must be sent in the Authorization header, not in the request body")
	}
	return obj, nil
}

// authenticateRegistration checks the token of a registration request
// according to the tenant's initial access token mode.
func (r *Registrar) authenticateRegistration(ctx context.Context, t *tenant, token string) (grant, error) {
	defaults := slices.Clone(t.settings.DefaultPolicies)
	switch {
	case token == "" && t.settings.InitialAccessToken == TokenNone:
		return grant{facts: TokenFacts{Kind: "none", Policies: defaults}}, nil
	case token == "":
		return grant{}, errNoToken()
	case t.settings.InitialAccessToken == TokenStatic:
		if !hashEqual(token, t.staticDigest) {
			return grant{}, errInvalidToken(errors.New("static initial access token mismatch"))
		}
		return grant{facts: TokenFacts{Kind: "static", Policies: defaults}}, nil
	}
	if !ValidBearerValue(token) {
		return grant{}, errInvalidToken(errors.New("malformed token"))
	}
	id, now := HashToken(token), r.now()
	iat := t.iats.get(id, now)
	cached := iat != nil
	if !cached {
		var err error
		if iat, err = r.readIAT(ctx, t, id); err != nil {
			return grant{}, err
		}
		t.iats.put(iat, now)
	}
	return grant{iat: iat, cached: cached, facts: TokenFacts{
		Kind: "initial_access_token", ID: iat.ID,
		Policies: slices.Clone(iat.Policies), ClientID: iat.ClientID,
	}}, nil
}

// readIAT reads an initial access token from the store and refuses one
// that is unknown, expired or used up.
func (r *Registrar) readIAT(ctx context.Context, t *tenant, id string) (*InitialAccessToken, error) {
	iat, err := r.store.InitialAccessToken(ctx, t.name, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errInvalidToken(errors.New("unknown or expired initial access token"))
	}
	if err != nil {
		return nil, storeError("read initial access token", err)
	}
	if iat.Exhausted() {
		return nil, errInvalidToken(ErrTokenExhausted)
	}
	return iat, nil
}

// confirmGrant is called before a registration that authenticated with
// a remembered token record (iatCache) answers with err or spends
// something outside the create: it reads the token from the store, as
// authentication does without the cache, and returns that refusal if the
// token is dead, so that a dead token is answered as if it had been
// refused first. Otherwise (or when the store cannot tell) it returns err.
func (r *Registrar) confirmGrant(ctx context.Context, t *tenant, g grant, err error) error {
	if !g.cached {
		return err
	}
	if _, rerr := r.readIAT(ctx, t, g.iat.ID); rerr != nil && AsError(rerr).Code == CodeInvalidToken {
		t.iats.forget(g.iat.ID)
		return rerr
	}
	return err
}

// applyDefaults fills in the tenant's client_defaults for members the
// request omitted. grant_types and response_types go together: when the
// request sets either, the other is derived from it rather than defaulted.
func (t *tenant) applyDefaults(obj map[string]json.RawMessage) {
	present := member{obj}.present
	// Decide the pair from the request alone, before any default lands:
	// the answer must not depend on map order.
	sentGrants, sentResponses := present("grant_types"), present("response_types")
	for k, v := range t.defaults {
		if present(k) ||
			k == "grant_types" && sentResponses ||
			k == "response_types" && sentGrants {
			continue
		}
		obj[k] = v
	}
}

// rejectionCodes are the codes a module may reject a request with; any
// other error from a module is a failure of the module.
var rejectionCodes = []ErrorCode{
	CodeInvalidClientMetadata, CodeInvalidRedirectURI, CodeInvalidSoftwareStatement,
	CodeUnapprovedSoftwareStatement, CodeInvalidRequest,
}

// moduleError turns an error from a module hook into the request's error:
// a rejection passes through, anything else is a server_error that names
// the module but not its internals.
func moduleError(hook Hook, name string, err error) error {
	var e *Error
	if errors.As(err, &e) && slices.Contains(rejectionCodes, e.Code) {
		return e
	}
	return &Error{Code: CodeServerError, Description: fmt.Sprintf("policy module %q failed in its %s hook", name, hook), Err: err}
}

// checkModule returns an error if the request's modules have no module of
// that name with the hook.
func (run *policyRun) checkModule(t *tenant, hook Hook, name string) error {
	if run.mods == nil || !run.mods.Has(name, hook) {
		return &Error{
			Code:        CodeServerError,
			Description: fmt.Sprintf("policy module %q is not available for the %s hook", name, hook),
			Err:         fmt.Errorf("tenant %s: %s hook: module %q not loaded", t.name, hook, name),
		}
	}
	return nil
}

// policyRun is what one request runs its hooks on: one snapshot of the
// tenant's modules, taken when the request starts, so that all its hooks
// run one version of each module. It records which versions ran and which
// one, if any, rejected the request.
type policyRun struct {
	mods       ModuleSet // nil when the registrar has no modules
	ran        []PolicyVersion
	hooks      []HookVersion
	rejectedBy *PolicyVersion
}

// newRun takes a snapshot of the tenant's modules for one request; it must
// be released when the request ends.
func (r *Registrar) newRun(t *tenant) *policyRun {
	run := &policyRun{}
	if r.modules != nil {
		run.mods = r.modules.Snapshot(t.name)
	}
	return run
}

// release lets the snapshot's module versions go.
func (run *policyRun) release() {
	if run.mods != nil {
		run.mods.Release()
	}
}

// version names the snapshot's version of a module.
func (run *policyRun) version(name string) PolicyVersion {
	return PolicyVersion{Name: name, Digest: run.mods.Version(name)}
}

// ranHook records that a module's factory or decision hook ran, once.
func (run *policyRun) ranHook(hook Hook, name string) {
	v := HookVersion{Hook: hook, Name: name, Digest: run.mods.Version(name)}
	if !slices.Contains(run.hooks, v) {
		run.hooks = append(run.hooks, v)
	}
}

// runPolicies runs the policy hooks of in.Policies in order, each on the
// previous one's output, and returns the final metadata and the policy list
// for the registration access token. It records in run what ran.
func (r *Registrar) runPolicies(ctx context.Context, t *tenant, run *policyRun, in *PolicyInput) (map[string]json.RawMessage, []string, error) {
	ratPolicies := slices.Clone(in.Policies)
	for _, name := range in.Policies {
		if err := run.checkModule(t, HookPolicy, name); err != nil {
			return nil, nil, err
		}
		in.Config = t.settings.PolicyConfig[name]
		out, err := run.mods.Policy(ctx, name, in)
		if err != nil {
			err = moduleError(HookPolicy, name, err)
			if AsError(err).Code != CodeServerError {
				v := run.version(name)
				run.rejectedBy = &v
			}
			return nil, nil, err
		}
		if out == nil || out.Metadata == nil {
			return nil, nil, moduleError(HookPolicy, name, errors.New("policy returned no metadata"))
		}
		for k := range out.Metadata {
			if IsServerManaged(k) {
				return nil, nil, moduleError(HookPolicy, name, fmt.Errorf("policy set the server-managed member %q", k))
			}
		}
		if out.RegistrationPolicies != nil {
			for _, p := range out.RegistrationPolicies {
				if err := run.checkModule(t, HookPolicy, p); err != nil {
					return nil, nil, moduleError(HookPolicy, name, fmt.Errorf("policy named unavailable policy %q for the registration access token", p))
				}
			}
			ratPolicies = slices.Clone(out.RegistrationPolicies)
		}
		in.Metadata = out.Metadata
		run.ran = append(run.ran, run.version(name))
	}
	return in.Metadata, ratPolicies, nil
}

// memberNames returns the set of an object's member names.
func memberNames(obj map[string]json.RawMessage) map[string]bool {
	names := make(map[string]bool, len(obj))
	for k := range obj {
		names[k] = true
	}
	return names
}

// warnDropped logs the members that policies added but validation dropped
// as unknown: a policy author's mistake (a member the tenant does not list
// in extra_client_metadata) that would otherwise pass unnoticed.
func (r *Registrar) warnDropped(ctx context.Context, t *tenant, policies []string, requested map[string]bool, obj map[string]json.RawMessage) {
	if len(policies) == 0 {
		return
	}
	var dropped []string
	for k := range obj {
		if !requested[k] && !t.keeps(k) {
			dropped = append(dropped, k)
		}
	}
	if len(dropped) > 0 {
		slices.Sort(dropped)
		r.log.WarnContext(ctx, "members set by policies were dropped: they are not client metadata this tenant keeps (see extra_client_metadata)",
			"tenant", t.name, "policies", policies, "members", dropped)
	}
}

// keeps reports whether validation keeps a member of that name.
func (t *tenant) keeps(name string) bool {
	return metadataFields[name] || isLocalizedName(name) || t.extra[name]
}

// idAlphabet is the URL-safe alphabet of built-in client IDs. It has 64
// characters, so a random byte masked to 6 bits picks one uniformly.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// clientID returns the client ID for a registration: the one the initial
// access token reserves, else the id_factory module's, else a built-in
// random one of 21 characters (126 bits). builtin reports the last case.
func (r *Registrar) clientID(ctx context.Context, t *tenant, run *policyRun, g grant, in *FactoryInput) (id string, builtin bool, err error) {
	if g.iat != nil && g.iat.ClientID != "" {
		return g.iat.ClientID, false, nil
	}
	if name := t.settings.IDFactory; name != "" {
		if err := run.checkModule(t, HookIDFactory, name); err != nil {
			return "", false, err
		}
		call := *in // the module's copy: only it goes to the heap
		call.Config = t.settings.PolicyConfig[name]
		id, err := run.mods.ClientID(ctx, name, &call)
		run.ranHook(HookIDFactory, name)
		if err != nil {
			return "", false, moduleError(HookIDFactory, name, err)
		}
		if !ValidClientID(id) {
			return "", false, moduleError(HookIDFactory, name, fmt.Errorf("client ID %q: want 1-128 characters of A-Z a-z 0-9 . _ ~ -", truncate(id, 64)))
		}
		return id, false, nil
	}
	b := make([]byte, 21)
	if err := readRandom(r.rand, b); err != nil {
		return "", false, serverError("internal server error", err)
	}
	for i := range b {
		b[i] = idAlphabet[b[i]&63]
	}
	return string(b), true, nil
}

// newSecret returns a client secret: the secret_factory module's, or 64
// random bytes, base64url-encoded (86 characters).
func (r *Registrar) newSecret(ctx context.Context, t *tenant, run *policyRun, in *FactoryInput) (string, error) {
	if name := t.settings.SecretFactory; name != "" {
		if err := run.checkModule(t, HookSecretFactory, name); err != nil {
			return "", err
		}
		call := *in // the module's copy: only it goes to the heap
		call.Config = t.settings.PolicyConfig[name]
		s, err := run.mods.ClientSecret(ctx, name, &call)
		run.ranHook(HookSecretFactory, name)
		if err != nil {
			return "", moduleError(HookSecretFactory, name, err)
		}
		if !validSecret(s) {
			return "", moduleError(HookSecretFactory, name, errors.New("client secret must be 32-512 printable ASCII characters without spaces"))
		}
		return s, nil
	}
	s, err := randomString(r.rand, 64)
	if err != nil {
		return "", serverError("internal server error", err)
	}
	return s, nil
}

// validSecret reports whether a module-made secret is acceptable: 32 to 512
// printable ASCII characters without spaces. The length floor keeps an
// unsalted digest of it safe to store.
func validSecret(s string) bool {
	if len(s) < 32 || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7F {
			return false
		}
	}
	return true
}

// decide answers a yes/no Decision: fixed, or by the module's hook, which
// is given what input builds (only then: the input copies the metadata).
func (r *Registrar) decide(ctx context.Context, t *tenant, run *policyRun, d Decision, hook Hook, input func() *DecisionInput) (bool, error) {
	if d.Module == "" {
		return !d.Off, nil
	}
	if err := run.checkModule(t, hook, d.Module); err != nil {
		return false, err
	}
	in := input()
	in.Config = t.settings.PolicyConfig[d.Module]
	ok, err := run.mods.Decide(ctx, d.Module, hook, in)
	run.ranHook(hook, d.Module)
	if err != nil {
		return false, moduleError(hook, d.Module, err)
	}
	return ok, nil
}

// auditRejection records a request refused after authentication: a
// rejection of the metadata (by validation or by a policy), a quota, a
// conflict. Failures of the server are logged elsewhere, not audited.
func (r *Registrar) auditRejection(ctx context.Context, t *tenant, clientID, tokenID string, run *policyRun, err error) {
	e := AsError(err)
	switch e.Code {
	case CodeServerError, CodeTemporarilyUnavailable, CodeInvalidToken, CodeNotFound:
		return
	}
	r.audit(ctx, AuditEvent{
		Tenant: t.name, Type: AuditClientRejected, ClientID: clientID, TokenID: tokenID,
		Policy: run.rejectedBy, Policies: run.ran, Error: e.Code, Detail: truncate(e.Description, 256),
	})
}
