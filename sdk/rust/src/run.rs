//! Running a hook on an input document: what the hook macros' exports do in
//! WebAssembly, and what a test calls natively to check a policy end to
//! end, document in, document out.
//!
//! Each function returns the output document (an answer or a rejection) or,
//! when the call fails, the message Registrar would log.

use crate::error::{safe_description, Error, Rejection, Result};
use crate::input::{AccessTokenInput, AccessTokenOutput, DecisionInput, FactoryInput, PolicyInput, PolicyOutput};
use crate::json;

/// A policy hook.
pub trait Policy: for<'a> Fn(PolicyInput<'a>) -> Result<PolicyOutput<'a>> {}
impl<F: for<'a> Fn(PolicyInput<'a>) -> Result<PolicyOutput<'a>>> Policy for F {}

/// An `id_factory` or `secret_factory` hook.
pub trait Factory: for<'a> Fn(FactoryInput<'a>) -> Result<String> {}
impl<F: for<'a> Fn(FactoryInput<'a>) -> Result<String>> Factory for F {}

/// An `issue_registration_access_token` or
/// `rotate_registration_access_token` hook.
pub trait Decision: for<'a> Fn(DecisionInput<'a>) -> Result<bool> {}
impl<F: for<'a> Fn(DecisionInput<'a>) -> Result<bool>> Decision for F {}

/// An `issue_access_token` hook.
pub trait AccessToken: for<'a> Fn(AccessTokenInput<'a>) -> Result<AccessTokenOutput<'a>> {}
impl<F: for<'a> Fn(AccessTokenInput<'a>) -> Result<AccessTokenOutput<'a>>> AccessToken for F {}

/// Runs a policy hook on an input document.
pub fn policy(f: impl Policy, doc: &str) -> std::result::Result<String, String> {
    finish("policy", doc, |doc, out| __policy_into(&f, doc, out))
}

/// Runs an `id_factory` hook on an input document.
pub fn id_factory(f: impl Factory, doc: &str) -> std::result::Result<String, String> {
    finish("id_factory", doc, |doc, out| __id_factory_into(&f, doc, out))
}

/// Runs a `secret_factory` hook on an input document.
pub fn secret_factory(f: impl Factory, doc: &str) -> std::result::Result<String, String> {
    finish("secret_factory", doc, |doc, out| __secret_factory_into(&f, doc, out))
}

/// Runs an `issue_registration_access_token` hook on an input document.
pub fn issue_registration_access_token(f: impl Decision, doc: &str) -> std::result::Result<String, String> {
    finish("issue_registration_access_token", doc, |doc, out| __decision_into(&f, doc, out))
}

/// Runs a `rotate_registration_access_token` hook on an input document.
pub fn rotate_registration_access_token(f: impl Decision, doc: &str) -> std::result::Result<String, String> {
    finish("rotate_registration_access_token", doc, |doc, out| __decision_into(&f, doc, out))
}

/// Runs an `issue_access_token` hook on an input document.
pub fn issue_access_token(f: impl AccessToken, doc: &str) -> std::result::Result<String, String> {
    finish("issue_access_token", doc, |doc, out| __access_token_into(&f, doc, out))
}

fn finish(
    hook: &str,
    doc: &str,
    run: impl FnOnce(&str, &mut Vec<u8>) -> Result<()>,
) -> std::result::Result<String, String> {
    let mut out = Vec::new();
    match answer(hook, doc, &mut out, run) {
        Ok(()) => Ok(String::from_utf8(out).expect("registrar: output is UTF-8")),
        Err(msg) => Err(failure(hook, &msg)),
    }
}

/// The line logged for a failed call.
pub(crate) fn failure(hook: &str, msg: &str) -> String {
    format!("registrar: the {} hook failed: {}", hook, msg)
}

/// Runs a hook into out: the output document, or an error document for a
/// rejection; Err with the message of a failure.
pub(crate) fn answer(
    hook: &str,
    doc: &str,
    out: &mut Vec<u8>,
    run: impl FnOnce(&str, &mut Vec<u8>) -> Result<()>,
) -> std::result::Result<(), String> {
    match run(doc, out) {
        Ok(()) => Ok(()),
        Err(Error::Reject(r)) if r.code.is_token_code() != (hook == "issue_access_token") => {
            let which = if hook == "issue_access_token" {
                "invalid_scope, unauthorized_client or access_denied"
            } else {
                "one of the RFC 7591 codes"
            };
            Err(format!("rejected with {}, but the code is not {}", r, which))
        }
        Err(Error::Reject(r)) => {
            out.clear();
            write_rejection(out, &r);
            Ok(())
        }
        Err(Error::Fail(msg)) => Err(msg),
    }
}

/// Appends the error document of a rejection, its description made safe.
fn write_rejection(out: &mut Vec<u8>, r: &Rejection) {
    out.extend_from_slice(b"{\"error\":");
    json::write_string(out, r.code.as_str());
    let desc = safe_description(&r.description);
    if !desc.is_empty() {
        out.extend_from_slice(b",\"error_description\":");
        json::write_string(out, &desc);
    }
    out.push(b'}');
}

#[doc(hidden)]
pub fn __policy_into(f: &impl Policy, doc: &str, out: &mut Vec<u8>) -> Result<()> {
    let res = f(PolicyInput::decode(doc)?)?;
    out.extend_from_slice(b"{\"metadata\":");
    res.metadata.write_json(out);
    if let Some(names) = &res.registration_policies {
        out.extend_from_slice(b",\"registration_policies\":");
        json::write_strings(out, names);
    }
    out.push(b'}');
    Ok(())
}

#[doc(hidden)]
pub fn __id_factory_into(f: &impl Factory, doc: &str, out: &mut Vec<u8>) -> Result<()> {
    let id = f(FactoryInput::decode(doc)?)?;
    if !valid_client_id(&id) {
        return Err(crate::fail("returned a client_id that is not 1 to 128 characters of A-Z a-z 0-9 . _ ~ -"));
    }
    out.extend_from_slice(b"{\"client_id\":");
    json::write_string(out, &id);
    out.push(b'}');
    Ok(())
}

#[doc(hidden)]
pub fn __secret_factory_into(f: &impl Factory, doc: &str, out: &mut Vec<u8>) -> Result<()> {
    let secret = f(FactoryInput::decode(doc)?)?;
    if !valid_client_secret(&secret) {
        return Err(crate::fail(
            "returned a client_secret that is not 32 to 512 printable ASCII characters without spaces",
        ));
    }
    out.extend_from_slice(b"{\"client_secret\":");
    json::write_string(out, &secret);
    out.push(b'}');
    Ok(())
}

#[doc(hidden)]
pub fn __decision_into(f: &impl Decision, doc: &str, out: &mut Vec<u8>) -> Result<()> {
    let yes = f(DecisionInput::decode(doc)?)?;
    out.extend_from_slice(if yes { b"{\"decision\":true}" } else { b"{\"decision\":false}" });
    Ok(())
}

#[doc(hidden)]
pub fn __access_token_into(f: &impl AccessToken, doc: &str, out: &mut Vec<u8>) -> Result<()> {
    let input = AccessTokenInput::decode(doc)?;
    let (scope, lifetime, earlier) = (input.scope.clone(), input.lifetime, input.claims.clone());
    let res = f(input)?;
    check_access_token(&res, &scope, lifetime, &earlier)?;
    out.push(b'{');
    let sep = |out: &mut Vec<u8>| {
        if out.len() > 1 {
            out.push(b',');
        }
    };
    if let Some(scope) = &res.scope {
        out.extend_from_slice(b"\"scope\":");
        json::write_strings(out, scope);
    }
    if let Some(audience) = &res.audience {
        sep(out);
        out.extend_from_slice(b"\"audience\":");
        json::write_strings(out, audience);
    }
    if res.lifetime > 0 {
        sep(out);
        out.extend_from_slice(format!("\"lifetime\":{}", res.lifetime).as_bytes());
    }
    if !res.claims.is_empty() {
        sep(out);
        out.extend_from_slice(b"\"claims\":");
        res.claims.write_json(out);
    }
    out.push(b'}');
    Ok(())
}

/// Refuses what the host would refuse (sdk/ABI.md §2, issue_access_token).
fn check_access_token(
    res: &AccessTokenOutput,
    scope: &[std::borrow::Cow<str>],
    lifetime: i64,
    earlier: &crate::Object,
) -> Result<()> {
    if let Some(granted) = &res.scope {
        for (i, v) in granted.iter().enumerate() {
            if !scope.iter().any(|s| s == v) {
                return Err(crate::fail(format!("returned scope {:?}, which is not in the input's scope", v)));
            }
            if granted[..i].contains(v) {
                return Err(crate::fail(format!("returned scope {:?} twice", v)));
            }
        }
    }
    if let Some(aud) = &res.audience {
        if aud.is_empty() || aud.len() > 16 || aud.iter().any(|a| a.is_empty()) {
            return Err(crate::fail("returned an audience that is not 1 to 16 non-empty strings"));
        }
    }
    if res.lifetime < 0 || res.lifetime > lifetime {
        return Err(crate::fail(format!(
            "returned a lifetime of {} seconds; the most is the input's {}",
            res.lifetime, lifetime
        )));
    }
    for (name, _) in res.claims.iter() {
        if name.is_empty() || crate::RESERVED_CLAIMS.contains(&name) {
            return Err(crate::fail(format!(
                "returned claim {:?}, which is reserved: the token endpoint sets it",
                name
            )));
        }
        if earlier.has(name) {
            return Err(crate::fail(format!("returned claim {:?}, which an earlier module set", name)));
        }
    }
    let mut buf = Vec::new();
    res.claims.write_json(&mut buf);
    if buf.len() > crate::MAX_CLAIMS_BYTES {
        return Err(crate::fail(format!("returned claims of {} bytes; the most is 4096", buf.len())));
    }
    Ok(())
}

/// 1 to 128 characters of A-Z a-z 0-9 . _ ~ - (sdk/ABI.md §2).
fn valid_client_id(s: &str) -> bool {
    (1..=128).contains(&s.len())
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'~' | b'-'))
}

/// 32 to 512 printable ASCII characters without spaces (sdk/ABI.md §2).
fn valid_client_secret(s: &str) -> bool {
    (32..=512).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reject, Code};

    const IN: &str =
        r#"{"abi":1,"hook":"policy","phase":"register","tenant":"t","metadata":{"client_name":"A","x":[1]}}"#;

    fn change(mut in_: PolicyInput) -> Result<PolicyOutput> {
        in_.metadata.remove("x");
        let tenant = in_.tenant.clone();
        in_.metadata.set_string("tenant", &tenant);
        Ok(PolicyOutput { metadata: in_.metadata, registration_policies: Some(vec!["a".into()]) })
    }

    fn as_is(in_: PolicyInput) -> Result<PolicyOutput> {
        Ok(PolicyOutput::new(in_.metadata))
    }

    fn refuse(_: PolicyInput) -> Result<PolicyOutput> {
        Err(reject(Code::InvalidRedirectUri, "bad \"uri\"\n"))
    }

    fn silent(_: PolicyInput) -> Result<PolicyOutput> {
        Err(reject(Code::InvalidClientMetadata, ""))
    }

    fn broken(_: PolicyInput) -> Result<PolicyOutput> {
        Err(crate::fail("config is missing"))
    }

    #[test]
    fn policy_outputs() {
        assert_eq!(
            policy(change, IN).unwrap(),
            r#"{"metadata":{"client_name":"A","tenant":"t"},"registration_policies":["a"]}"#
        );
        assert_eq!(policy(as_is, IN).unwrap(), r#"{"metadata":{"client_name":"A","x":[1]}}"#);
        assert_eq!(
            policy(refuse, IN).unwrap(),
            r#"{"error":"invalid_redirect_uri","error_description":"bad \"uri\" "}"#
        );
        assert_eq!(policy(silent, IN).unwrap(), r#"{"error":"invalid_client_metadata"}"#);
        assert_eq!(policy(broken, IN).unwrap_err(), "registrar: the policy hook failed: config is missing");
    }

    #[test]
    fn factories_check_what_they_return() {
        let doc = r#"{"abi":1,"hook":"id_factory","tenant":"t"}"#;
        assert_eq!(id_factory(|_: FactoryInput| Ok("t-1".to_owned()), doc).unwrap(), r#"{"client_id":"t-1"}"#);
        assert!(id_factory(|_: FactoryInput| Ok("t 1".to_owned()), doc).unwrap_err().contains("client_id"));
        let secret = "s".repeat(32);
        assert_eq!(
            secret_factory(|_: FactoryInput| Ok("s".repeat(32)), doc).unwrap(),
            format!(r#"{{"client_secret":"{}"}}"#, secret)
        );
        assert!(secret_factory(|_: FactoryInput| Ok("s".repeat(31)), doc).is_err());
    }

    #[test]
    fn decisions() {
        let doc = r#"{"abi":1,"hook":"issue_registration_access_token","phase":"register","client_id":"c"}"#;
        assert_eq!(
            issue_registration_access_token(|_: DecisionInput| Ok(false), doc).unwrap(),
            r#"{"decision":false}"#
        );
        assert_eq!(
            rotate_registration_access_token(|in_: DecisionInput| Ok(in_.client_id == "c"), doc).unwrap(),
            r#"{"decision":true}"#
        );
    }

    fn narrow(in_: AccessTokenInput) -> Result<AccessTokenOutput> {
        let mut out = AccessTokenOutput { scope: Some(vec!["write".into()]), lifetime: 60, ..Default::default() };
        out.claims.set_string("tier", &in_.metadata.string("tier")?.unwrap_or_default());
        Ok(out)
    }
    fn keep(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        Ok(AccessTokenOutput::default())
    }
    fn deny(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        Err(reject(Code::AccessDenied, "no"))
    }
    fn deny_wrongly(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        Err(reject(Code::InvalidClientMetadata, "no"))
    }
    fn deny_policy(_: PolicyInput) -> Result<PolicyOutput> {
        Err(reject(Code::AccessDenied, "no"))
    }
    fn wider(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        Ok(AccessTokenOutput { scope: Some(vec!["admin".into()]), ..Default::default() })
    }
    fn longer(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        Ok(AccessTokenOutput { lifetime: 3601, ..Default::default() })
    }
    fn reserved(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        let mut out = AccessTokenOutput::default();
        out.claims.set_string("sub", "x");
        Ok(out)
    }
    fn again(_: AccessTokenInput) -> Result<AccessTokenOutput> {
        let mut out = AccessTokenOutput::default();
        out.claims.set_string("org", "x");
        Ok(out)
    }

    #[test]
    fn access_tokens() {
        let doc = r#"{"abi":1,"hook":"issue_access_token","client_id":"c","scope":["read","write"],"lifetime":3600,"claims":{"org":"a"},"metadata":{"tier":"gold"}}"#;
        assert_eq!(
            issue_access_token(narrow, doc).unwrap(),
            r#"{"scope":["write"],"lifetime":60,"claims":{"tier":"gold"}}"#
        );
        assert_eq!(issue_access_token(keep, doc).unwrap(), "{}");
        assert_eq!(issue_access_token(deny, doc).unwrap(), r#"{"error":"access_denied","error_description":"no"}"#);
        assert!(issue_access_token(deny_wrongly, doc).unwrap_err().contains("not invalid_scope"));
        assert!(policy(deny_policy, IN).unwrap_err().contains("RFC 7591"));
        assert!(issue_access_token(wider, doc).unwrap_err().contains("not in the input's scope"));
        assert!(issue_access_token(longer, doc).unwrap_err().contains("lifetime"));
        assert!(issue_access_token(reserved, doc).unwrap_err().contains("reserved"));
        assert!(issue_access_token(again, doc).unwrap_err().contains("earlier module"));
    }

    #[test]
    fn client_ids_and_secrets() {
        for (s, ok) in
            [("acme-3f9a1c", true), ("A.b_c~d-9", true), ("", false), ("a b", false), ("a/b", false), ("é", false)]
        {
            assert_eq!(valid_client_id(s), ok, "{:?}", s);
        }
        assert!(valid_client_id(&"a".repeat(128)) && !valid_client_id(&"a".repeat(129)));
        assert!(valid_client_secret(&"!~".repeat(256)) && !valid_client_secret(&"x".repeat(513)));
        assert!(!valid_client_secret(&("x".repeat(31) + " ")) && !valid_client_secret(&("x".repeat(31) + "é")));
    }
}
