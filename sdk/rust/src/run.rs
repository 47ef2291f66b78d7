//! Running a hook on an input document: what the hook macros' exports do in
//! WebAssembly, and what a test calls natively to check a policy end to
//! end, document in, document out.
//!
//! Each function returns the output document (an answer or a rejection) or,
//! when the call fails, the message Registrar would log.

use crate::error::{safe_description, Error, Rejection, Result};
use crate::input::{DecisionInput, FactoryInput, PolicyInput, PolicyOutput};
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

fn finish(
    hook: &str,
    doc: &str,
    run: impl FnOnce(&str, &mut Vec<u8>) -> Result<()>,
) -> std::result::Result<String, String> {
    let mut out = Vec::new();
    match answer(doc, &mut out, run) {
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
    doc: &str,
    out: &mut Vec<u8>,
    run: impl FnOnce(&str, &mut Vec<u8>) -> Result<()>,
) -> std::result::Result<(), String> {
    match run(doc, out) {
        Ok(()) => Ok(()),
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
