use std::borrow::Cow;
use std::ops::Deref;

use crate::json::{Decoder, JsonError};
use crate::object::Object;

/// Which request a hook runs for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A new registration (RFC 7591).
    Register,
    /// An update through RFC 7592.
    Update,
}

/// The token that authorised the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Token<'a> {
    /// `initial_access_token`, `static`, `registration_access_token` or
    /// `none` (open registration).
    pub kind: Cow<'a, str>,
    /// The SHA-256 of a stored token, else empty.
    pub id: Cow<'a, str>,
    /// The policies the token names.
    pub policies: Vec<Cow<'a, str>>,
    /// The client ID the token reserves, or the client being updated;
    /// empty if none.
    pub client_id: Cow<'a, str>,
}

/// Facts about the HTTP request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request<'a> {
    /// The client's IP address as Registrar saw it.
    pub remote_ip: Cow<'a, str>,
}

/// The members every hook's input has (sdk/ABI.md §2). Each input type
/// dereferences to its envelope, so `input.tenant` reads well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The ABI version of the input document: 1.
    pub abi: i64,
    /// The hook being called, e.g. `policy`.
    pub hook: Cow<'a, str>,
    /// The tenant the request is for.
    pub tenant: Cow<'a, str>,
    /// The host's time, in seconds since the Unix epoch.
    pub now: i64,
    /// The token that authorised the request.
    pub token: Token<'a>,
    /// Facts about the HTTP request.
    pub request: Request<'a>,
    /// This module's configuration for the tenant (the tenant's
    /// `policy_config.<module name>`) as raw JSON, or `None`.
    /// [`Envelope::config_object`] reads an object.
    pub config: Option<&'a str>,
}

impl<'a> Envelope<'a> {
    /// The configuration as an object: `Ok(None)` if there is none, an
    /// error if it is not a JSON object.
    pub fn config_object(&self) -> Result<Option<Object<'a>>, JsonError> {
        self.config.map(Object::parse).transpose()
    }
}

/// The input of the `policy` hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInput<'a> {
    /// The members every input has.
    pub envelope: Envelope<'a>,
    /// Registration or update.
    pub phase: Phase,
    /// The client metadata about to be validated (empty if the input has
    /// none). It is not yet validated: any member may have the wrong type.
    pub metadata: Object<'a>,
    /// On update, the client being updated; else empty.
    pub client_id: Cow<'a, str>,
    /// On update, the client's stored metadata; else `None`.
    pub current: Option<Object<'a>>,
    /// The policy list of the request.
    pub policies: Vec<Cow<'a, str>>,
    /// The request's verified software statement, or `None`: on
    /// registration only, when the tenant verifies statements and the
    /// request carried one.
    pub software_statement: Option<SoftwareStatement<'a>>,
}

/// A software statement (RFC 7591 §2.3) as Registrar verified it: the
/// `software_statement` member of the policy input (sdk/ABI.md §2). Its
/// claims already override the same members of the metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoftwareStatement<'a> {
    /// The statement's `iss`: one of the tenant's trusted issuers.
    pub issuer: Cow<'a, str>,
    /// Every claim of the statement as signed (`iss`, `iat`, `jti`,
    /// `software_id`, and any other such as `software_roles` or
    /// `org_id`). The typed accessors read them; their type errors are
    /// rejections with `invalid_client_metadata`, so a policy that wants
    /// another code checks them itself. With the `serde` feature,
    /// `claims.get_as::<T>(name)` reads one into any type.
    pub claims: Object<'a>,
    /// That the host verified the statement: always true in what the host
    /// sends (an unverified statement is not sent). A policy that admits
    /// clients by a claim checks it all the same.
    pub verified: bool,
}

/// What the `policy` hook returns to accept a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutput<'a> {
    /// The metadata to continue with. It must not contain the members the
    /// server assigns (`client_id`, `client_secret`, `client_id_issued_at`,
    /// `client_secret_expires_at`, `registration_access_token`,
    /// `registration_client_uri`).
    pub metadata: Object<'a>,
    /// Unless `None`, replaces the policy list that the client's
    /// registration access token carries. Each must name a module the
    /// tenant has.
    pub registration_policies: Option<Vec<String>>,
}

impl<'a> PolicyOutput<'a> {
    /// Continue with this metadata; the token's policy list is unchanged.
    pub fn new(metadata: Object<'a>) -> Self {
        PolicyOutput { metadata, registration_policies: None }
    }
}

/// The input of the `id_factory` and `secret_factory` hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactoryInput<'a> {
    /// The members every input has.
    pub envelope: Envelope<'a>,
    /// The validated client metadata.
    pub metadata: Object<'a>,
}

/// The input of the `issue_registration_access_token` and
/// `rotate_registration_access_token` hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionInput<'a> {
    /// The members every input has.
    pub envelope: Envelope<'a>,
    /// Registration or update.
    pub phase: Phase,
    /// The client's ID.
    pub client_id: Cow<'a, str>,
    /// The validated client metadata.
    pub metadata: Object<'a>,
}

/// The input of the `issue_access_token` hook: a token request at the
/// token endpoint, as the endpoint has judged it so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenInput<'a> {
    /// The members every input has.
    pub envelope: Envelope<'a>,
    /// The client asking for a token.
    pub client_id: Cow<'a, str>,
    /// The client's validated metadata.
    pub metadata: Object<'a>,
    /// The grant of the request (`client_credentials`).
    pub grant_type: Cow<'a, str>,
    /// How the client authenticated (a `token_endpoint_auth_method`).
    pub auth_method: Cow<'a, str>,
    /// The request's scope parameter, split; empty when it named none.
    pub requested_scope: Vec<Cow<'a, str>>,
    /// The scope the client registered.
    pub allowed_scope: Vec<Cow<'a, str>>,
    /// What the token gets unless the hook narrows it; the hook may return
    /// only values of it.
    pub scope: Vec<Cow<'a, str>>,
    /// The request's resource parameters (RFC 8707).
    pub resources: Vec<Cow<'a, str>>,
    /// The token's audience unless the hook replaces it.
    pub audience: Vec<Cow<'a, str>>,
    /// The token's lifetime in seconds unless the hook shortens it; also
    /// the most the hook may return.
    pub lifetime: i64,
    /// The client's registration policies.
    pub policies: Vec<Cow<'a, str>>,
    /// The claims earlier modules of the request set (empty if none); the
    /// hook may not set one of them again.
    pub claims: Object<'a>,
}

/// What the `issue_access_token` hook returns to allow the token. The
/// default changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessTokenOutput<'a> {
    /// Unless `None`, the token's scope: values of the input's scope only,
    /// each once; `Some(vec![])` grants no scope.
    pub scope: Option<Vec<String>>,
    /// Unless `None`, replaces the audience: 1 to 16 non-empty strings.
    pub audience: Option<Vec<String>>,
    /// When positive, the token's lifetime in seconds: at most the input's.
    pub lifetime: i64,
    /// Extra claims: at most 4,096 bytes as JSON, no name of
    /// [`RESERVED_CLAIMS`](crate::RESERVED_CLAIMS), none an earlier module set.
    pub claims: Object<'a>,
}

macro_rules! deref_envelope {
    ($($t:ident),*) => {$(
        impl<'a> Deref for $t<'a> {
            type Target = Envelope<'a>;
            fn deref(&self) -> &Envelope<'a> {
                &self.envelope
            }
        }
    )*};
}
deref_envelope!(PolicyInput, FactoryInput, DecisionInput, AccessTokenInput);

/// Why an input document could not be read: a failure of the call.
pub(crate) fn input_error(member: &str, e: JsonError) -> crate::Error {
    crate::fail(format!("input member {:?}: {}", member, e))
}

/// Reads an input document in one pass: the envelope's members go to env,
/// the others to member, which skips those it does not know (a later host
/// may add members).
fn decode<'a, F>(doc: &'a str, env: &mut Envelope<'a>, mut member: F) -> crate::Result<()>
where
    F: FnMut(&mut Decoder<'a>, &str) -> Result<(), JsonError>,
{
    let mut d = Decoder::new(doc);
    let mut failed: Option<(String, JsonError)> = None;
    let res = d.object(|d, name, _| {
        let r = match &*name {
            "abi" => int(d).map(|n| env.abi = n),
            "hook" => string(d).map(|s| env.hook = s),
            "tenant" => string(d).map(|s| env.tenant = s),
            "now" => int(d).map(|n| env.now = n),
            "token" => read_token(d, &mut env.token),
            "request" => read_request(d, &mut env.request),
            "config" => {
                if d.null() {
                    Ok(())
                } else {
                    d.raw().map(|raw| env.config = Some(raw))
                }
            }
            other => member(d, other),
        };
        if let Err(e) = &r {
            failed.get_or_insert_with(|| (name.into_owned(), e.clone()));
        }
        r
    });
    if let Some((name, e)) = failed {
        return Err(input_error(&name, e));
    }
    res.and_then(|_| d.end()).map_err(|e| crate::fail(format!("input: {}", e)))
}

fn read_token<'a>(d: &mut Decoder<'a>, t: &mut Token<'a>) -> Result<(), JsonError> {
    if d.null() {
        return Ok(());
    }
    d.object(|d, name, _| match &*name {
        "kind" => string(d).map(|s| t.kind = s),
        "id" => string(d).map(|s| t.id = s),
        "policies" => strings(d).map(|ss| t.policies = ss),
        "client_id" => string(d).map(|s| t.client_id = s),
        _ => d.raw().map(drop),
    })
}

fn read_request<'a>(d: &mut Decoder<'a>, r: &mut Request<'a>) -> Result<(), JsonError> {
    if d.null() {
        return Ok(());
    }
    d.object(|d, name, _| match &*name {
        "remote_ip" => string(d).map(|s| r.remote_ip = s),
        _ => d.raw().map(drop),
    })
}

/// Reads a string; null is empty.
fn string<'a>(d: &mut Decoder<'a>) -> Result<Cow<'a, str>, JsonError> {
    if d.null() {
        return Ok(Cow::Borrowed(""));
    }
    d.string()
}

/// Reads an array of strings; null is empty.
fn strings<'a>(d: &mut Decoder<'a>) -> Result<Vec<Cow<'a, str>>, JsonError> {
    if d.null() {
        return Ok(Vec::new());
    }
    d.strings()
}

/// Reads an object; null is empty.
fn object<'a>(d: &mut Decoder<'a>) -> Result<Object<'a>, JsonError> {
    if d.null() {
        return Ok(Object::new());
    }
    Object::read(d)
}

/// Reads an integer written without fraction or exponent.
fn int(d: &mut Decoder<'_>) -> Result<i64, JsonError> {
    let raw = d.raw()?;
    crate::json::decode_i64(raw).ok_or(JsonError { offset: 0, message: "not an integer" })
}

/// Reads a software statement; null is `None`.
fn statement<'a>(d: &mut Decoder<'a>) -> Result<Option<SoftwareStatement<'a>>, JsonError> {
    if d.null() {
        return Ok(None);
    }
    let mut s = SoftwareStatement::default();
    d.object(|d, name, _| match &*name {
        "issuer" => string(d).map(|v| s.issuer = v),
        "claims" => object(d).map(|o| s.claims = o),
        "verified" => {
            if d.null() {
                return Ok(());
            }
            match d.raw()? {
                "true" => s.verified = true,
                "false" => s.verified = false,
                _ => return Err(JsonError { offset: 0, message: "not true or false" }),
            }
            Ok(())
        }
        _ => d.raw().map(drop),
    })?;
    Ok(Some(s))
}

fn phase(d: &mut Decoder<'_>) -> Result<Option<Phase>, JsonError> {
    match &*string(d)? {
        "register" => Ok(Some(Phase::Register)),
        "update" => Ok(Some(Phase::Update)),
        _ => Err(JsonError { offset: 0, message: "not \"register\" or \"update\"" }),
    }
}

fn need_phase(p: Option<Phase>) -> crate::Result<Phase> {
    p.ok_or_else(|| crate::fail("input has no phase"))
}

impl<'a> PolicyInput<'a> {
    /// Decodes a policy input document (sdk/ABI.md §2). Members it does
    /// not know are ignored.
    pub fn decode(doc: &'a str) -> crate::Result<Self> {
        let mut env = Envelope::default();
        let (mut ph, mut metadata, mut client_id, mut current, mut policies) =
            (None, Object::new(), Cow::Borrowed(""), None, Vec::new());
        let mut software_statement = None;
        decode(doc, &mut env, |d, name| match name {
            "phase" => phase(d).map(|p| ph = p),
            "metadata" => object(d).map(|o| metadata = o),
            "client_id" => string(d).map(|s| client_id = s),
            "current" => {
                if d.null() {
                    Ok(())
                } else {
                    Object::read(d).map(|o| current = Some(o))
                }
            }
            "policies" => strings(d).map(|ss| policies = ss),
            "software_statement" => statement(d).map(|s| software_statement = s),
            _ => d.raw().map(drop),
        })?;
        Ok(PolicyInput {
            envelope: env,
            phase: need_phase(ph)?,
            metadata,
            client_id,
            current,
            policies,
            software_statement,
        })
    }
}

impl<'a> FactoryInput<'a> {
    /// Decodes an `id_factory` or `secret_factory` input document.
    pub fn decode(doc: &'a str) -> crate::Result<Self> {
        let mut env = Envelope::default();
        let mut metadata = Object::new();
        decode(doc, &mut env, |d, name| match name {
            "metadata" => object(d).map(|o| metadata = o),
            _ => d.raw().map(drop),
        })?;
        Ok(FactoryInput { envelope: env, metadata })
    }
}

impl<'a> DecisionInput<'a> {
    /// Decodes the input document of a decision hook.
    pub fn decode(doc: &'a str) -> crate::Result<Self> {
        let mut env = Envelope::default();
        let (mut ph, mut client_id, mut metadata) = (None, Cow::Borrowed(""), Object::new());
        decode(doc, &mut env, |d, name| match name {
            "phase" => phase(d).map(|p| ph = p),
            "client_id" => string(d).map(|s| client_id = s),
            "metadata" => object(d).map(|o| metadata = o),
            _ => d.raw().map(drop),
        })?;
        Ok(DecisionInput { envelope: env, phase: need_phase(ph)?, client_id, metadata })
    }
}

impl<'a> AccessTokenInput<'a> {
    /// Decodes the input document of the `issue_access_token` hook.
    pub fn decode(doc: &'a str) -> crate::Result<Self> {
        let mut env = Envelope::default();
        let mut in_ = AccessTokenInput {
            envelope: Envelope::default(),
            client_id: Cow::Borrowed(""),
            metadata: Object::new(),
            grant_type: Cow::Borrowed(""),
            auth_method: Cow::Borrowed(""),
            requested_scope: Vec::new(),
            allowed_scope: Vec::new(),
            scope: Vec::new(),
            resources: Vec::new(),
            audience: Vec::new(),
            lifetime: 0,
            policies: Vec::new(),
            claims: Object::new(),
        };
        decode(doc, &mut env, |d, name| match name {
            "client_id" => string(d).map(|s| in_.client_id = s),
            "metadata" => object(d).map(|o| in_.metadata = o),
            "grant_type" => string(d).map(|s| in_.grant_type = s),
            "auth_method" => string(d).map(|s| in_.auth_method = s),
            "requested_scope" => strings(d).map(|ss| in_.requested_scope = ss),
            "allowed_scope" => strings(d).map(|ss| in_.allowed_scope = ss),
            "scope" => strings(d).map(|ss| in_.scope = ss),
            "resources" => strings(d).map(|ss| in_.resources = ss),
            "audience" => strings(d).map(|ss| in_.audience = ss),
            "lifetime" => {
                if d.null() {
                    Ok(())
                } else {
                    int(d).map(|n| in_.lifetime = n)
                }
            }
            "policies" => strings(d).map(|ss| in_.policies = ss),
            "claims" => object(d).map(|o| in_.claims = o),
            _ => d.raw().map(drop),
        })?;
        in_.envelope = env;
        Ok(in_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_policy_input() {
        let doc = r#"{"abi":1,"hook":"policy","tenant":"acme","now":1767225600,"future":{"a":[1]},
            "token":{"kind":"registration_access_token","id":"ab","policies":["p1","p2"],"client_id":"c1","x":1},
            "request":{"remote_ip":"203.0.113.7"},"phase":"update","client_id":"c1","current":{"client_name":"Old"},
            "policies":["p1"],"config":{"hosts":["example.com"]},"metadata":{"client_name":"New"}}"#;
        let in_ = PolicyInput::decode(doc).unwrap();
        assert_eq!((in_.abi, &*in_.hook, &*in_.tenant, in_.now), (1, "policy", "acme", 1767225600));
        assert_eq!(in_.token.kind, "registration_access_token");
        assert_eq!(in_.token.policies, vec!["p1", "p2"]);
        assert_eq!(in_.request.remote_ip, "203.0.113.7");
        assert_eq!((in_.phase, &*in_.client_id), (Phase::Update, "c1"));
        assert_eq!(in_.current.as_ref().unwrap().get("client_name"), Some("\"Old\""));
        assert_eq!(in_.config, Some(r#"{"hosts":["example.com"]}"#));
        assert_eq!(in_.config_object().unwrap().unwrap().string_array("hosts").unwrap().unwrap(), vec!["example.com"]);
        assert_eq!(in_.metadata.to_json(), r#"{"client_name":"New"}"#);
    }

    #[test]
    fn absent_and_null_members() {
        let in_ = PolicyInput::decode(
            r#"{"abi":1,"hook":"policy","phase":"register","metadata":null,"config":null,"token":null}"#,
        )
        .unwrap();
        assert!(in_.metadata.is_empty() && in_.config.is_none() && in_.current.is_none());
        assert_eq!(in_.token, Token::default());
    }

    #[test]
    fn decodes_a_software_statement() {
        let doc = r#"{"abi":1,"hook":"policy","phase":"register","metadata":{},
            "software_statement":{"issuer":"https://dir.example","claims":{"org_id":"org-\u0031",
            "software_roles":["AISP","PISP"],"iat":1767225500},"verified":true,"later":[1]}}"#;
        let in_ = PolicyInput::decode(doc).unwrap();
        let s = in_.software_statement.unwrap();
        assert_eq!((&*s.issuer, s.verified), ("https://dir.example", true));
        assert_eq!(s.claims.string("org_id").unwrap().unwrap(), "org-1");
        assert_eq!(s.claims.string_array("software_roles").unwrap().unwrap(), vec!["AISP", "PISP"]);
        assert_eq!(s.claims.i64("iat").unwrap(), Some(1767225500));
        match s.claims.string("software_roles") {
            Err(crate::Error::Reject(r)) => assert_eq!(r.code, crate::Code::InvalidClientMetadata),
            other => panic!("{:?}", other),
        }
        for doc in [
            r#"{"abi":1,"hook":"policy","phase":"register"}"#,
            r#"{"abi":1,"hook":"policy","phase":"register","software_statement":null}"#,
        ] {
            assert_eq!(PolicyInput::decode(doc).unwrap().software_statement, None);
        }
        let s = PolicyInput::decode(
            r#"{"abi":1,"hook":"policy","phase":"register","software_statement":{"claims":null,"verified":false}}"#,
        )
        .unwrap()
        .software_statement
        .unwrap();
        assert!(s.claims.is_empty() && !s.verified && s.issuer.is_empty());
        for doc in [
            r#"{"abi":1,"hook":"policy","phase":"register","software_statement":[1]}"#,
            r#"{"abi":1,"hook":"policy","phase":"register","software_statement":{"claims":[1]}}"#,
            r#"{"abi":1,"hook":"policy","phase":"register","software_statement":{"verified":"yes"}}"#,
        ] {
            assert!(matches!(PolicyInput::decode(doc), Err(crate::Error::Fail(_))), "{}", doc);
        }
    }

    #[test]
    fn bad_input_fails() {
        for doc in [
            r#"{"abi":1,"hook":"policy","phase":"register","metadata":[1]}"#,
            r#"{"abi":1,"hook":"policy","phase":"register","metadata":{"a":}}"#,
            r#"{"abi":1,"hook":"policy","phase":"register","tenant":5}"#,
            r#"{"abi":1,"hook":"policy","phase":"sideways"}"#,
            r#"{"abi":1,"hook":"policy"}"#,
            r#"{"abi":1,"hook":"policy","phase":"register"} x"#,
        ] {
            match PolicyInput::decode(doc) {
                Err(crate::Error::Fail(_)) => {}
                other => panic!("{}: {:?}", doc, other),
            }
        }
    }
}
