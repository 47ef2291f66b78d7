//! token-tiers: a Registrar issue_access_token hook. A client's access
//! tokens are capped by the tier its metadata names (an extra metadata
//! member, "tier" by default): the scope is narrowed to the tier's ceiling,
//! the audience comes from the configuration, the lifetime is capped, and
//! the token carries the tier as a claim. See ../README.md.

use registrar::{fail, reject, AccessTokenInput, AccessTokenOutput, Code, Object, Result};

registrar::issue_access_token!(issue);

/// The module's configuration (policy_config.token-tiers).
struct Config<'a> {
    /// The metadata member naming the tier.
    member: String,
    /// Tier name -> the scope values its tokens may carry.
    tiers: Object<'a>,
    /// The tokens' audience; None keeps the token endpoint's.
    audience: Option<Vec<String>>,
    /// The most seconds a token lives; 0 keeps the token endpoint's.
    max_lifetime: i64,
}

fn parse_config(raw: Option<&str>) -> Result<Config<'_>> {
    let raw = raw.ok_or_else(|| fail("token-tiers is not configured: set policy_config.token-tiers"))?;
    let obj = Object::parse(raw).map_err(|_| fail("token-tiers: the configuration must be an object"))?;
    let bad = |what: &str| fail(format!("token-tiers: {}", what));
    let member = match obj.string("member").map_err(|_| bad("member must be a non-empty string"))? {
        Some(m) if m.is_empty() => return Err(bad("member must be a non-empty string")),
        Some(m) => m.into_owned(),
        None => "tier".to_owned(),
    };
    let tiers =
        obj.object("tiers").ok().flatten().ok_or_else(|| bad("tiers must be an object of scope arrays"))?.into_owned();
    let audience = obj.string_array("audience").map_err(|_| bad("audience must be a non-empty array of strings"))?;
    if audience.as_ref().map_or(false, Vec::is_empty) {
        return Err(bad("audience must be a non-empty array of strings"));
    }
    let max_lifetime = obj.i64("max_lifetime").map_err(|_| bad("max_lifetime must be a positive number of seconds"))?;
    if max_lifetime.map_or(false, |n| n < 0) {
        return Err(bad("max_lifetime must be a positive number of seconds"));
    }
    Ok(Config {
        member,
        tiers,
        audience: audience.map(|a| a.into_iter().map(|s| s.into_owned()).collect()),
        max_lifetime: max_lifetime.unwrap_or(0),
    })
}

/// Decides a token request.
fn issue(input: AccessTokenInput) -> Result<AccessTokenOutput> {
    let cfg = parse_config(input.config)?;
    let tier = input
        .metadata
        .string(&cfg.member)
        .map_err(|_| fail(format!("token-tiers: the client's {} is not a string", cfg.member)))?
        .unwrap_or_default();
    if tier.is_empty() {
        return Err(reject(
            Code::UnauthorizedClient,
            format!("the client has no {}: register one to get tokens", cfg.member),
        ));
    }
    if !cfg.tiers.has(&tier) {
        return Err(reject(Code::AccessDenied, format!("tier {:?} gets no tokens here", tier)));
    }
    let ceiling = cfg
        .tiers
        .string_array(&tier)
        .ok()
        .flatten()
        .ok_or_else(|| fail(format!("token-tiers: config tiers.{} must be an array of strings", tier)))?;
    if let Some(v) = input.requested_scope.iter().find(|v| !ceiling.contains(v)) {
        return Err(reject(Code::InvalidScope, format!("scope {:?} is beyond the {} tier", v, tier)));
    }
    let mut out = AccessTokenOutput {
        scope: Some(input.scope.iter().filter(|v| ceiling.contains(v)).map(|v| v.to_string()).collect()),
        audience: cfg.audience,
        ..Default::default()
    };
    if cfg.max_lifetime > 0 && cfg.max_lifetime < input.lifetime {
        out.lifetime = cfg.max_lifetime;
    }
    out.claims.set_string("tier", &tier);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use registrar::run;

    const CONFIG: &str = r#"{"tiers":{"gold":["read","write","admin"],"silver":["read","write"]},"audience":["https://api.example.com"],"max_lifetime":900}"#;

    fn doc(tier: &str, requested: &str, config: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"issue_access_token","tenant":"acme","client_id":"c1","metadata":{{"tier":{}}},"requested_scope":{},"scope":["read","write","admin"],"lifetime":3600,"config":{}}}"#,
            tier, requested, config
        )
    }

    #[test]
    fn narrows_to_the_tier() {
        assert_eq!(
            run::issue_access_token(issue, &doc(r#""silver""#, "null", CONFIG)).unwrap(),
            r#"{"scope":["read","write"],"audience":["https://api.example.com"],"lifetime":900,"claims":{"tier":"silver"}}"#
        );
    }

    #[test]
    fn denies() {
        let out = run::issue_access_token(issue, &doc(r#""silver""#, r#"["admin"]"#, CONFIG)).unwrap();
        assert!(out.starts_with(r#"{"error":"invalid_scope""#), "{}", out);
        let out = run::issue_access_token(issue, &doc("null", "null", CONFIG)).unwrap();
        assert!(out.starts_with(r#"{"error":"unauthorized_client""#), "{}", out);
        let out = run::issue_access_token(issue, &doc(r#""platinum""#, "null", CONFIG)).unwrap();
        assert!(out.starts_with(r#"{"error":"access_denied""#), "{}", out);
    }

    #[test]
    fn a_bad_configuration_fails() {
        assert!(run::issue_access_token(issue, &doc(r#""gold""#, "null", "null")).is_err());
        assert!(run::issue_access_token(issue, &doc(r#""gold""#, "null", r#"{"tiers":1}"#)).is_err());
        assert!(run::issue_access_token(issue, &doc(r#"["gold"]"#, "null", CONFIG)).is_err());
    }
}
