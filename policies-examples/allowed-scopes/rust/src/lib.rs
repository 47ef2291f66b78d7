//! allowed-scopes: a Registrar policy module that lets a client register
//! only the scopes its registration is allowed (RFC 7591 `scope`), which
//! can depend on the token that authorised it, and gives a client that asks
//! for none a default scope. See ../README.md.

use registrar::{fail, reject, Code, Object, PolicyInput, PolicyOutput, Result};

registrar::policy!(check);

/// The module's configuration (policy_config.allowed-scopes).
#[derive(Debug)]
struct Config<'a> {
    /// The scopes a registration may ask for.
    allowed: Vec<String>,
    /// Per initial access token (by its id, the SHA-256 the input names),
    /// scopes that replace `allowed`.
    by_token: Option<Object<'a>>,
    /// Per token kind (none, static, initial_access_token,
    /// registration_access_token), scopes that replace `allowed`.
    by_kind: Option<Object<'a>>,
    /// The scope of a client that asks for none; "" for none.
    default_scope: String,
}

/// Reads the configuration. A bad one is the operator's mistake, not the
/// client's: it fails the call.
fn parse_config(raw: Option<&str>) -> Result<Config<'_>> {
    let raw = raw.ok_or_else(|| fail("no configuration: set policy_config.allowed-scopes.allowed for the tenant"))?;
    let obj = Object::parse(raw).map_err(|_| fail("configuration must be a JSON object"))?;
    let bad = |what: &str| fail(format!("configuration: {}", what));
    let allowed = obj.string_array("allowed").map_err(|_| bad("allowed must be an array of scopes"))?;
    let allowed: Vec<String> =
        allowed.ok_or_else(|| bad("allowed is required"))?.into_iter().map(|s| s.into_owned()).collect();
    if let Some(t) = allowed.iter().find(|t| !valid_token(t)) {
        return Err(bad(&format!("allowed: {:?} is not a scope token", t)));
    }
    let default_scope =
        obj.string("default_scope").map_err(|_| bad("default_scope must be a string"))?.unwrap_or_default();
    for t in default_scope.split(' ').filter(|t| !t.is_empty()) {
        if !allowed.iter().any(|a| a == t) {
            return Err(bad(&format!("default_scope: {:?} is not in allowed", t)));
        }
    }
    let by_token = obj.object("by_token").map_err(|_| bad("by_token must be an object of scope lists"))?;
    let by_kind = obj.object("by_kind").map_err(|_| bad("by_kind must be an object of scope lists"))?;
    Ok(Config { allowed, by_token, by_kind, default_scope: default_scope.into_owned() })
}

impl Config<'_> {
    /// The scopes the request's token allows: its own list, else its
    /// kind's, else `allowed`.
    fn allowed_for(&self, token_id: &str, kind: &str) -> Result<Vec<String>> {
        for (map, key) in [(&self.by_token, token_id), (&self.by_kind, kind)] {
            let map = match map {
                Some(map) if !key.is_empty() => map,
                _ => continue,
            };
            let list = map
                .string_array(key)
                .map_err(|_| fail(format!("configuration: the scopes of {:?} must be an array", key)))?;
            if let Some(list) = list {
                return Ok(list.into_iter().map(|s| s.into_owned()).collect());
            }
        }
        Ok(self.allowed.clone())
    }
}

/// A scope token: 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3).
fn valid_token(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|c| c == 0x21 || (0x23..=0x5b).contains(&c) || (0x5d..=0x7e).contains(&c))
}

fn check(mut input: PolicyInput) -> Result<PolicyOutput> {
    let cfg = parse_config(input.config)?;
    let allowed = cfg.allowed_for(&input.token.id, &input.token.kind)?;
    let md = &mut input.metadata;
    let scope = md.string("scope")?.unwrap_or_default();
    if scope.is_empty() {
        // The default, as far as this token allows it.
        let default: Vec<&str> = cfg.default_scope.split(' ').filter(|t| allowed.iter().any(|a| a == t)).collect();
        if !default.is_empty() {
            md.set_string("scope", &default.join(" "));
        }
        return Ok(PolicyOutput::new(input.metadata));
    }
    let tokens: Vec<&str> = scope.split(' ').collect();
    if !tokens.iter().all(|t| valid_token(t)) {
        return Err(reject(
            Code::InvalidClientMetadata,
            "scope must be scope tokens separated by single spaces (RFC 6749 §3.3)",
        ));
    }
    let refused: Vec<&str> = tokens.iter().copied().filter(|t| !allowed.iter().any(|a| a == t)).collect();
    if !refused.is_empty() {
        let shown: Vec<String> = refused.iter().take(5).map(|t| format!("{:?}", t)).collect();
        let more = if refused.len() > 5 { format!(" and {} more", refused.len() - 5) } else { String::new() };
        return Err(reject(
            Code::InvalidClientMetadata,
            format!(
                "scope {}{} {} not allowed for this registration",
                shown.join(", "),
                more,
                if refused.len() == 1 { "is" } else { "are" }
            ),
        ));
    }
    Ok(PolicyOutput::new(input.metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_tokens() {
        for t in ["openid", "read:all", "https://api.example.com/pay", "a!#[]~"] {
            assert!(valid_token(t), "{}", t);
        }
        for t in ["", "a b", "a\"b", "a\\b", "é", "a\tb"] {
            assert!(!valid_token(t), "{:?}", t);
        }
    }

    #[test]
    fn configuration() {
        let cfg = parse_config(Some(
            r#"{"allowed":["openid","profile"],"default_scope":"openid","by_kind":{"none":["openid"]}}"#,
        ))
        .unwrap();
        assert_eq!(cfg.allowed_for("", "none").unwrap(), vec!["openid"]);
        assert_eq!(cfg.allowed_for("ab", "initial_access_token").unwrap(), vec!["openid", "profile"]);
        for bad in [
            None,
            Some("[]"),
            Some(r#"{}"#),
            Some(r#"{"allowed":["a b"]}"#),
            Some(r#"{"allowed":["openid"],"default_scope":"profile"}"#),
            Some(r#"{"allowed":["openid"],"by_token":[]}"#),
        ] {
            assert!(parse_config(bad).is_err(), "{:?}", bad);
        }
    }
}
