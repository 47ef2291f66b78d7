package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// hookCodes are the codes with which an issue_access_token hook may deny a
// token (sdk/ABI.md §2); the client receives them as they are.
var hookCodes = []engine.ErrorCode{engine.CodeInvalidScope, engine.CodeUnauthorizedClient, engine.CodeAccessDenied}

// runHooks runs the issue_access_token hooks of a token request on the
// grant that decide computed, changing it in place: first the module the
// tenant's issue_access_token setting names, then each module of the
// client's registration policies that implements the hook, in order, each
// once, all on one snapshot of the tenant's modules. Each module sees the
// grant as the previous ones left it: it may narrow the scope, replace the
// audience, shorten the lifetime and add claims, but not set a claim an
// earlier module set (that is a failure of the later module, so that a
// client's policy cannot override the tenant's module). A denial stops the
// request with its code; a failure is a server_error naming the module.
func (s *Server) runHooks(ctx context.Context, req TokenRequest, settings engine.Settings, who *authenticated, g *grant) error {
	tenantModule := settings.IssueAccessToken.Module
	c := who.client
	if tenantModule == "" && len(c.RegistrationPolicies) == 0 {
		return nil
	}
	if s.modules == nil {
		if tenantModule == "" {
			return nil
		}
		return hookUnavailable(req.Tenant, tenantModule)
	}
	set := s.modules.Snapshot(req.Tenant)
	defer set.Release()
	names := make([]string, 0, 1+len(c.RegistrationPolicies))
	if tenantModule != "" {
		if !set.Has(tenantModule, engine.HookIssueAccessToken) {
			return hookUnavailable(req.Tenant, tenantModule)
		}
		names = append(names, tenantModule)
	}
	for _, p := range c.RegistrationPolicies {
		if !slices.Contains(names, p) && set.Has(p, engine.HookIssueAccessToken) {
			names = append(names, p)
		}
	}
	in := hookInput(req, settings, who)
	for _, name := range names {
		if err := s.runHook(ctx, set, name, in, settings, g); err != nil {
			return err
		}
	}
	return nil
}

// hookInput is the part of the hooks' input that does not change from one
// module to the next.
func hookInput(req TokenRequest, settings engine.Settings, who *authenticated) engine.AccessTokenInput {
	in := engine.AccessTokenInput{
		Tenant: req.Tenant, ClientID: who.client.ID, Metadata: who.client.Metadata,
		GrantType: req.GrantType, AuthMethod: who.method,
		AllowedScope: allowedScope(settings, who.client), Resources: req.Resources,
		Policies: who.client.RegistrationPolicies, Request: engine.RequestFacts{RemoteIP: req.Request.RemoteIP},
	}
	if req.HasScope {
		in.RequestedScope, _ = parseScope(req.Scope) // decide has checked it
	}
	return in
}

// runHook runs one module's hook on the grant as it is and applies what
// it allows.
func (s *Server) runHook(ctx context.Context, set engine.ModuleSet, name string, base engine.AccessTokenInput, settings engine.Settings, g *grant) error {
	in := base
	in.Scope, in.Audience, in.Lifetime, in.Claims = g.scope, g.audience, int64(g.lifetime/time.Second), g.claims
	in.Config = settings.PolicyConfig[name]
	out, err := set.IssueAccessToken(ctx, name, &in)
	if err != nil {
		return hookError(name, err)
	}
	for claim := range out.Claims {
		if _, ok := g.claims[claim]; ok {
			return hookError(name, fmt.Errorf("claim %q was set by an earlier issue_access_token module", truncate(claim)))
		}
	}
	if out.Scope != nil {
		g.scope = out.Scope
	}
	if out.Audience != nil {
		g.audience = out.Audience
	}
	if out.Lifetime > 0 {
		g.lifetime = time.Duration(out.Lifetime) * time.Second
	}
	if len(out.Claims) > 0 {
		if g.claims == nil {
			g.claims = map[string]json.RawMessage{}
		}
		maps.Copy(g.claims, out.Claims)
	}
	return nil
}

// hookError is the client's answer to a hook that did not allow the
// token: its denial, or a server_error naming the module that failed.
func hookError(name string, err error) error {
	var e *engine.Error
	if errors.As(err, &e) && slices.Contains(hookCodes, e.Code) {
		return e
	}
	return &engine.Error{Code: engine.CodeServerError, Description: fmt.Sprintf("policy module %q failed in its %s hook", name, engine.HookIssueAccessToken), Err: err}
}

// hookUnavailable is the answer when the tenant's issue_access_token
// module cannot run.
func hookUnavailable(tenant, name string) error {
	return &engine.Error{
		Code:        engine.CodeServerError,
		Description: fmt.Sprintf("policy module %q is not available for the %s hook", name, engine.HookIssueAccessToken),
		Err:         fmt.Errorf("tenant %s: %s hook: module %q not loaded", tenant, engine.HookIssueAccessToken, name),
	}
}
