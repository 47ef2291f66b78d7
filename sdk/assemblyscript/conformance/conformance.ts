// The AssemblyScript SDK's conformance module: it exports every hook and
// does what its input's config asks, as sdk/testdata/vectors/README.md
// specifies, so that the shared ABI vectors exercise the whole SDK. It is
// built to conformance.wasm beside this file and replayed by the host's
// tests (go test ./plugins -run Vectors) and, in Node.js, by npm test.

import {
  AccessTokenInput, AccessTokenOutput,
  BASE32, BASE62, Code, DecisionInput, Envelope, FactoryInput, Level, Obj, Phase, PolicyInput, PolicyOutput, SoftwareStatement,
  fail, failed, log, parseCode, randomString, reject,
  serveIDFactory, serveIssueAccessToken, serveIssueRegistrationAccessToken, servePolicy, serveRotateRegistrationAccessToken, serveSecretFactory,
} from "../assembly/index";

export * from "../assembly/exports";

export function registrar_policy(ptr: u32, len: u32): u64 {
  return servePolicy(checkPolicy, ptr, len);
}

export function registrar_id_factory(ptr: u32, len: u32): u64 {
  return serveIDFactory(makeID, ptr, len);
}

export function registrar_secret_factory(ptr: u32, len: u32): u64 {
  return serveSecretFactory(makeSecret, ptr, len);
}

export function registrar_issue_registration_access_token(ptr: u32, len: u32): u64 {
  return serveIssueRegistrationAccessToken(decide, ptr, len);
}

export function registrar_rotate_registration_access_token(ptr: u32, len: u32): u64 {
  return serveRotateRegistrationAccessToken(decide, ptr, len);
}

export function registrar_issue_access_token(ptr: u32, len: u32): u64 {
  return serveIssueAccessToken(issueAccessToken, ptr, len);
}

/** Applies the instructions every hook follows (log, fail, reject) and
 * returns the configuration; failed() tells whether the call is answered. */
function common(env: Envelope): Obj {
  let cfg = env.configObject();
  if (cfg == null) cfg = new Obj();
  const msg = cfg.string("log");
  if (msg != null && msg.length > 0) log(Level.Info, msg);
  if (cfg.has("fail")) {
    const why = cfg.string("fail");
    if (why != null) fail(why);
  }
  const r = cfg.object("reject");
  if (r != null) {
    const name = r.string("code");
    const desc = r.string("description");
    const code = parseCode(name != null ? name : "");
    // A name that is no Code fails the call here; a code of the wrong kind
    // for the hook fails it in the SDK, as the ABI requires.
    if (code < 0) fail("rejected with " + (name != null ? name : "") + ", which is not a code");
    else reject(<Code>code, desc != null ? desc : "");
  }
  return cfg;
}

function checkPolicy(input: PolicyInput): PolicyOutput | null {
  const cfg = common(input);
  if (failed()) return null;
  if (cfg.bool("as_is")) return null;
  const md = input.metadata;
  if (cfg.bool("envelope")) {
    md.setInt64("x_abi", input.abi);
    md.setString("x_hook", input.hook);
    md.setString("x_tenant", input.tenant);
    md.setInt64("x_now", input.now);
    md.setString("x_token_kind", input.token.kind);
    md.setString("x_token_id", input.token.id);
    md.setStringArray("x_token_policies", input.token.policies);
    md.setString("x_token_client_id", input.token.clientID);
    md.setString("x_remote_ip", input.remoteIP);
    md.setString("x_phase", input.phase == Phase.Update ? "update" : "register");
    md.setString("x_client_id", input.clientID);
    md.setStringArray("x_policies", input.policies);
    const current = input.current;
    if (current != null) md.setObject("x_current", current);
  }
  if (!statement(cfg, input.softwareStatement, md)) return null;
  const strings = cfg.stringArray("strings");
  if (strings != null) {
    for (let i = 0; i < strings.length; i++) {
      const v = md.string(strings[i]);
      if (failed()) return null;
      if (v != null) md.setString("x_" + strings[i], v);
    }
  }
  const arrays = cfg.stringArray("string_arrays");
  if (arrays != null) {
    for (let i = 0; i < arrays.length; i++) {
      const v = md.stringArray(arrays[i]);
      if (failed()) return null;
      if (v != null) md.setStringArray("x_" + arrays[i], v);
    }
  }
  const bools = cfg.stringArray("bools");
  if (bools != null) {
    for (let i = 0; i < bools.length; i++) {
      const v = md.bool(bools[i]);
      if (failed()) return null;
      if (md.has(bools[i])) md.setBool("x_" + bools[i], v);
    }
  }
  const ints = cfg.stringArray("integers");
  if (ints != null) {
    for (let i = 0; i < ints.length; i++) {
      const v = md.int64(ints[i]);
      if (failed()) return null;
      if (md.has(ints[i])) md.setInt64("x_" + ints[i], v);
    }
  }
  const objects = cfg.stringArray("objects");
  if (objects != null) {
    for (let i = 0; i < objects.length; i++) {
      const v = md.object(objects[i]);
      if (failed()) return null;
      if (v != null) md.setObject("x_" + objects[i], v);
    }
  }
  const del = cfg.stringArray("delete");
  if (del != null) {
    for (let i = 0; i < del.length; i++) md.delete(del[i]);
  }
  const set = cfg.object("set");
  if (set != null) {
    for (let i = 0; i < set.length; i++) md.setRaw(set.nameAt(i), set.rawAt(i));
  }
  const out = new PolicyOutput(md);
  if (cfg.has("registration_policies")) out.registrationPolicies = cfg.stringArray("registration_policies");
  return out;
}

/** Applies the statement, statement_strings and statement_string_arrays
 * instructions: the software statement's members, and its claims read
 * with the typed accessors, copied to the metadata. False if a type error
 * answered the call. */
function statement(cfg: Obj, st: SoftwareStatement | null, md: Obj): bool {
  if (cfg.bool("statement")) {
    md.setBool("x_statement", st != null);
    if (st != null) {
      md.setString("x_statement_issuer", st.issuer);
      md.setBool("x_statement_verified", st.verified);
      md.setObject("x_statement_claims", st.claims);
    }
  }
  const claims = st != null ? st.claims : new Obj();
  const strings = cfg.stringArray("statement_strings");
  if (strings != null) {
    for (let i = 0; i < strings.length; i++) {
      const v = claims.string(strings[i]);
      if (failed()) return false;
      if (v != null) md.setString("x_claim_" + strings[i], v);
    }
  }
  const arrays = cfg.stringArray("statement_string_arrays");
  if (arrays != null) {
    for (let i = 0; i < arrays.length; i++) {
      const v = claims.stringArray(arrays[i]);
      if (failed()) return false;
      if (v != null) md.setStringArray("x_claim_" + arrays[i], v);
    }
  }
  return true;
}

function makeID(input: FactoryInput): string {
  const cfg = common(input);
  if (cfg.has("client_id")) {
    const id = cfg.string("client_id");
    return id != null ? id : "";
  }
  return input.tenant + "-" + randomString(26, BASE32);
}

function makeSecret(input: FactoryInput): string {
  const cfg = common(input);
  if (cfg.has("client_secret")) {
    const s = cfg.string("client_secret");
    return s != null ? s : "";
  }
  let n = cfg.int64("length");
  if (n == 0) n = 48;
  if (n < 1 || n > 512) {
    fail("conformance: length must be 1 to 512");
    return "";
  }
  return randomString(<i32>n, BASE62);
}

function decide(input: DecisionInput): bool {
  const cfg = common(input);
  if (cfg.has("decision")) return cfg.bool("decision");
  const method = input.metadata.string("token_endpoint_auth_method");
  return method == null || method != "none";
}

function issueAccessToken(input: AccessTokenInput): AccessTokenOutput | null {
  const cfg = common(input);
  if (failed()) return null;
  const out = new AccessTokenOutput();
  if (cfg.bool("as_is")) return out;
  if (cfg.bool("envelope")) {
    const c = out.claims;
    c.setString("x_client_id", input.clientID);
    c.setString("x_grant_type", input.grantType);
    c.setString("x_auth_method", input.authMethod);
    c.setStringArray("x_requested_scope", input.requestedScope);
    c.setStringArray("x_allowed_scope", input.allowedScope);
    c.setStringArray("x_scope", input.scope);
    c.setStringArray("x_resources", input.resources);
    c.setStringArray("x_audience", input.audience);
    c.setRaw("x_lifetime", input.lifetime.toString());
    c.setStringArray("x_policies", input.policies);
    const method = input.metadata.string("token_endpoint_auth_method");
    if (failed()) return null;
    c.setString("x_token_endpoint_auth_method", method != null ? method : "");
    if (input.claims.length > 0) c.setObject("x_claims", input.claims);
  }
  if (cfg.has("scope")) {
    const v = cfg.stringArray("scope");
    out.scope = v != null ? v : [];
  }
  if (cfg.has("audience")) {
    const v = cfg.stringArray("audience");
    out.audience = v != null ? v : [];
  }
  out.lifetime = cfg.int64("lifetime");
  const claims = cfg.object("claims");
  if (claims != null) {
    for (let i = 0; i < claims.length; i++) out.claims.setRaw(claims.nameAt(i), claims.rawAt(i));
  }
  return out;
}
