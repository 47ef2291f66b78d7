//! The Rust SDK's conformance module: it exports every hook and does what
//! its input's config asks, as sdk/testdata/vectors/README.md specifies, so
//! that the shared ABI vectors exercise the whole SDK. It is built to
//! conformance.wasm beside this crate and replayed by the host's tests
//! (`go test ./plugins -run Vectors`); `cargo test` replays the same
//! vectors natively.

use registrar::SoftwareStatement;
use registrar::{fail, log, random_string, reject, Code, Envelope, Error, Level, Object, PolicyInput, PolicyOutput};
use registrar::{AccessTokenInput, AccessTokenOutput, DecisionInput, FactoryInput, Result, BASE32, BASE62};

registrar::policy!(check_policy);
registrar::id_factory!(make_id);
registrar::secret_factory!(make_secret);
registrar::issue_registration_access_token!(decide);
registrar::rotate_registration_access_token!(decide);
registrar::issue_access_token!(issue_access_token);

/// Applies the instructions every hook follows (log, fail, reject) and
/// returns the configuration.
fn common<'a>(env: &Envelope<'a>) -> Result<Object<'a>> {
    let cfg = env.config_object().map_err(|_| fail("conformance: config must be an object"))?.unwrap_or_default();
    if let Some(msg) = cfg.string("log")? {
        if !msg.is_empty() {
            log(Level::Info, &msg);
        }
    }
    if cfg.has("fail") {
        return Err(fail(cfg.string("fail")?.unwrap_or_default()));
    }
    if let Some(r) = cfg.object("reject")? {
        let code = r.string("code")?.unwrap_or_default();
        let desc = r.string("description")?.unwrap_or_default();
        // A code that is no Code fails the call here; one of the wrong kind
        // for the hook fails it in the SDK, as the ABI requires.
        let code = Code::parse(&code).ok_or_else(|| fail(format!("rejected with {}, which is not a code", code)))?;
        return Err(reject(code, desc));
    }
    Ok(cfg)
}

pub fn check_policy(mut input: PolicyInput) -> Result<PolicyOutput> {
    let cfg = common(&input.envelope)?;
    if cfg.bool("as_is")? == Some(true) {
        return Ok(PolicyOutput::new(input.metadata));
    }
    let md = &mut input.metadata;
    if cfg.bool("envelope")? == Some(true) {
        let env = &input.envelope;
        md.set_i64("x_abi", env.abi);
        md.set_string("x_hook", &env.hook);
        md.set_string("x_tenant", &env.tenant);
        md.set_i64("x_now", env.now);
        md.set_string("x_token_kind", &env.token.kind);
        md.set_string("x_token_id", &env.token.id);
        md.set_string_array("x_token_policies", &env.token.policies);
        md.set_string("x_token_client_id", &env.token.client_id);
        md.set_string("x_remote_ip", &env.request.remote_ip);
        md.set_string("x_phase", if input.phase == registrar::Phase::Update { "update" } else { "register" });
        md.set_string("x_client_id", &input.client_id);
        md.set_string_array("x_policies", &input.policies);
        if let Some(current) = &input.current {
            md.set_object("x_current", current);
        }
    }
    statement(&cfg, input.software_statement.as_ref(), md)?;
    read_typed(&cfg, md)?;
    for name in cfg.string_array("delete")?.unwrap_or_default() {
        md.remove(&name);
    }
    if let Some(set) = cfg.object("set")? {
        for (name, value) in set.iter() {
            md.set_raw(name, value.to_owned());
        }
    }
    let mut out = PolicyOutput::new(input.metadata);
    if cfg.has("registration_policies") {
        let names = cfg.string_array("registration_policies")?.unwrap_or_default();
        out.registration_policies = Some(names.into_iter().map(|n| n.into_owned()).collect());
    }
    Ok(out)
}

/// Applies the statement, statement_strings and statement_string_arrays
/// instructions: the software statement's members, and its claims read
/// with the typed accessors, copied to the metadata.
fn statement(cfg: &Object, st: Option<&SoftwareStatement>, md: &mut Object) -> Result<()> {
    if cfg.bool("statement")? == Some(true) {
        md.set_bool("x_statement", st.is_some());
        if let Some(st) = st {
            md.set_string("x_statement_issuer", &st.issuer);
            md.set_bool("x_statement_verified", st.verified);
            md.set_object("x_statement_claims", &st.claims);
        }
    }
    let empty = Object::new();
    let claims = st.map_or(&empty, |st| &st.claims);
    for name in cfg.string_array("statement_strings")?.unwrap_or_default() {
        if let Some(v) = claims.string(&name)? {
            md.set_string(&format!("x_claim_{}", name), &v);
        }
    }
    for name in cfg.string_array("statement_string_arrays")?.unwrap_or_default() {
        if let Some(v) = claims.string_array(&name)? {
            md.set_string_array(&format!("x_claim_{}", name), &v);
        }
    }
    Ok(())
}

/// Reads the members that config's strings, string_arrays, bools, integers
/// and objects name with the typed accessors, and copies each one present
/// to x_<name> with the matching setter.
fn read_typed(cfg: &Object, md: &mut Object) -> Result<()> {
    for name in cfg.string_array("strings")?.unwrap_or_default() {
        if let Some(v) = md.string(&name)? {
            md.set_string(&format!("x_{}", name), &v);
        }
    }
    for name in cfg.string_array("string_arrays")?.unwrap_or_default() {
        if let Some(v) = md.string_array(&name)? {
            md.set_string_array(&format!("x_{}", name), &v);
        }
    }
    for name in cfg.string_array("bools")?.unwrap_or_default() {
        if let Some(v) = md.bool(&name)? {
            md.set_bool(&format!("x_{}", name), v);
        }
    }
    for name in cfg.string_array("integers")?.unwrap_or_default() {
        if let Some(v) = md.i64(&name)? {
            md.set_i64(&format!("x_{}", name), v);
        }
    }
    for name in cfg.string_array("objects")?.unwrap_or_default() {
        if let Some(v) = md.object(&name)? {
            md.set_object(&format!("x_{}", name), &v);
        }
    }
    Ok(())
}

pub fn make_id(input: FactoryInput) -> Result<String> {
    let cfg = common(&input.envelope)?;
    if cfg.has("client_id") {
        return Ok(cfg.string("client_id")?.unwrap_or_default().into_owned());
    }
    Ok(format!("{}-{}", input.tenant, random_string(26, BASE32)))
}

pub fn make_secret(input: FactoryInput) -> Result<String> {
    let cfg = common(&input.envelope)?;
    if cfg.has("client_secret") {
        return Ok(cfg.string("client_secret")?.unwrap_or_default().into_owned());
    }
    let n = cfg.i64("length")?.unwrap_or(48);
    if !(1..=512).contains(&n) {
        return Err(Error::Fail("conformance: length must be 1 to 512".into()));
    }
    Ok(random_string(n as usize, BASE62))
}

pub fn decide(input: DecisionInput) -> Result<bool> {
    let cfg = common(&input.envelope)?;
    if let Some(d) = cfg.bool("decision")? {
        return Ok(d);
    }
    Ok(input.metadata.string("token_endpoint_auth_method")?.as_deref() != Some("none"))
}

pub fn issue_access_token(input: AccessTokenInput) -> Result<AccessTokenOutput> {
    let cfg = common(&input.envelope)?;
    let mut out = AccessTokenOutput::default();
    if cfg.bool("as_is")? == Some(true) {
        return Ok(out);
    }
    if cfg.bool("envelope")? == Some(true) {
        let c = &mut out.claims;
        c.set_string("x_client_id", &input.client_id);
        c.set_string("x_grant_type", &input.grant_type);
        c.set_string("x_auth_method", &input.auth_method);
        c.set_string_array("x_requested_scope", &input.requested_scope);
        c.set_string_array("x_allowed_scope", &input.allowed_scope);
        c.set_string_array("x_scope", &input.scope);
        c.set_string_array("x_resources", &input.resources);
        c.set_string_array("x_audience", &input.audience);
        c.set_i64("x_lifetime", input.lifetime);
        c.set_string_array("x_policies", &input.policies);
        let method = input.metadata.string("token_endpoint_auth_method")?.unwrap_or_default();
        c.set_string("x_token_endpoint_auth_method", &method);
        if !input.claims.is_empty() {
            c.set_object("x_claims", &input.claims);
        }
    }
    let owned = |v: Vec<std::borrow::Cow<str>>| v.into_iter().map(|s| s.into_owned()).collect::<Vec<_>>();
    if cfg.has("scope") {
        out.scope = Some(owned(cfg.string_array("scope")?.unwrap_or_default()));
    }
    if cfg.has("audience") {
        out.audience = Some(owned(cfg.string_array("audience")?.unwrap_or_default()));
    }
    out.lifetime = cfg.i64("lifetime")?.unwrap_or(0);
    if let Some(claims) = cfg.object("claims")? {
        for (name, value) in claims.iter() {
            out.claims.set_raw(name, value.to_owned());
        }
    }
    Ok(out)
}
