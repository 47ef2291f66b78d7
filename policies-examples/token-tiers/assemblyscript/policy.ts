// token-tiers: a Registrar issue_access_token hook. A client's access
// tokens are capped by the tier its metadata names (an extra metadata
// member, "tier" by default): the scope is narrowed to the tier's ceiling,
// the audience comes from the configuration, the lifetime is capped, and
// the token carries the tier as a claim. See ../README.md.

import {
  AccessTokenInput, AccessTokenOutput, Code, fail, failed, reject, serveIssueAccessToken,
} from "@registrar-dev/registrar-sdk/assembly";

export * from "@registrar-dev/registrar-sdk/assembly/exports";

export function registrar_issue_access_token(ptr: u32, len: u32): u64 {
  return serveIssueAccessToken(issue, ptr, len);
}

function issue(input: AccessTokenInput): AccessTokenOutput | null {
  const cfg = input.configObject(); // its type errors fail the call
  if (cfg == null) {
    if (!failed()) fail("token-tiers is not configured: set policy_config.token-tiers");
    return null;
  }
  let member = "tier";
  if (cfg.has("member")) {
    const m = cfg.string("member");
    if (m == null || m.length == 0) {
      fail("token-tiers: member must be a non-empty string");
      return null;
    }
    member = m;
  }
  const tiers = cfg.object("tiers");
  if (tiers == null) {
    fail("token-tiers: tiers must be an object of scope arrays");
    return null;
  }
  const audience = cfg.stringArray("audience");
  const maxLifetime = cfg.int64("max_lifetime");
  if ((cfg.has("audience") && (audience == null || audience.length == 0)) || maxLifetime < 0) {
    fail("token-tiers: audience must be a non-empty array of strings, max_lifetime a positive number of seconds");
    return null;
  }
  if (failed()) return null;

  // A tier of the wrong type is a rejection with a registration code,
  // which fails this hook's call: the client's metadata is the operator's.
  const t = input.metadata.string(member);
  if (failed()) return null;
  const tier = t != null ? t : "";
  if (tier.length == 0) {
    reject(Code.UnauthorizedClient, "the client has no " + member + ": register one to get tokens");
    return null;
  }
  if (!tiers.has(tier)) {
    reject(Code.AccessDenied, 'tier "' + tier + '" gets no tokens here');
    return null;
  }
  const ceiling = tiers.stringArray(tier);
  if (failed() || ceiling == null) {
    if (!failed()) fail("token-tiers: config tiers." + tier + " must be an array of strings");
    return null;
  }
  for (let i = 0; i < input.requestedScope.length; i++) {
    if (!ceiling.includes(input.requestedScope[i])) {
      reject(Code.InvalidScope, 'scope "' + input.requestedScope[i] + '" is beyond the ' + tier + " tier");
      return null;
    }
  }
  const out = new AccessTokenOutput();
  const scope: string[] = [];
  for (let i = 0; i < input.scope.length; i++) {
    if (ceiling.includes(input.scope[i])) scope.push(input.scope[i]);
  }
  out.scope = scope;
  out.audience = audience;
  if (maxLifetime > 0 && maxLifetime < input.lifetime) out.lifetime = maxLifetime;
  out.claims.setString("tier", tier);
  return out;
}
