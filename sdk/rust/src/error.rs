use std::fmt;

/// An error code a hook may reject a request with (sdk/ABI.md §2): one of
/// RFC 7591 §3.2.2 for the registration hooks, one of RFC 6749 §5.2
/// (`InvalidScope`, `UnauthorizedClient`, `AccessDenied`) for the
/// `issue_access_token` hook. A code of the other kind fails the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// `invalid_redirect_uri`: a redirect URI is not acceptable.
    InvalidRedirectUri,
    /// `invalid_client_metadata`: a metadata member is not acceptable.
    InvalidClientMetadata,
    /// `invalid_software_statement`: the software statement is invalid.
    InvalidSoftwareStatement,
    /// `unapproved_software_statement`: the software statement is not approved.
    UnapprovedSoftwareStatement,
    /// `invalid_scope` (token endpoint, 400): the requested scope is not
    /// acceptable.
    InvalidScope,
    /// `unauthorized_client` (token endpoint, 400): the client may not have
    /// a token this way.
    UnauthorizedClient,
    /// `access_denied` (token endpoint, 403): the token is refused.
    AccessDenied,
}

impl Code {
    /// The code as the client receives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRedirectUri => "invalid_redirect_uri",
            Code::InvalidClientMetadata => "invalid_client_metadata",
            Code::InvalidSoftwareStatement => "invalid_software_statement",
            Code::UnapprovedSoftwareStatement => "unapproved_software_statement",
            Code::InvalidScope => "invalid_scope",
            Code::UnauthorizedClient => "unauthorized_client",
            Code::AccessDenied => "access_denied",
        }
    }

    /// The code of that name, if it is one of the seven.
    pub fn parse(s: &str) -> Option<Code> {
        [
            Code::InvalidRedirectUri,
            Code::InvalidClientMetadata,
            Code::InvalidSoftwareStatement,
            Code::UnapprovedSoftwareStatement,
            Code::InvalidScope,
            Code::UnauthorizedClient,
            Code::AccessDenied,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Whether this is a code of the `issue_access_token` hook rather than
    /// of the registration hooks.
    pub fn is_token_code(self) -> bool {
        matches!(self, Code::InvalidScope | Code::UnauthorizedClient | Code::AccessDenied)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hook's refusal of a request: the client receives its code and
/// description with status 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The error code the client receives.
    pub code: Code,
    /// Shown to the client. When it is sent it is cut to 1,024 bytes and
    /// its control characters are replaced by spaces.
    pub description: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.description.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{}: {}", self.code, self.description)
        }
    }
}

/// Why a hook did not answer: a rejection, which the client receives, or a
/// failure, which fails the call: the client receives `server_error`, and
/// the message goes to Registrar's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The request is refused with a code and description for the client.
    Reject(Rejection),
    /// The call fails (a broken configuration, say: not the client's
    /// fault). The message is logged, never shown to the client.
    Fail(String),
}

impl Error {
    /// The rejection, if this is one.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Error::Reject(r) => Some(r),
            Error::Fail(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Reject(r) => r.fmt(f),
            Error::Fail(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}

impl From<Rejection> for Error {
    fn from(r: Rejection) -> Self {
        Error::Reject(r)
    }
}

/// The result of a hook and of the metadata accessors.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Rejects the request with a code and a description for the client.
pub fn reject(code: Code, description: impl Into<String>) -> Error {
    Error::Reject(Rejection { code, description: description.into() })
}

/// Fails the call: the client receives `server_error` and the message goes
/// to Registrar's log. Use it for what is not the client's fault, such as
/// a broken configuration.
pub fn fail(message: impl fmt::Display) -> Error {
    Error::Fail(message.to_string())
}

/// The description as it is sent: at most 1,024 bytes, cut at a character
/// boundary, with control characters (C0, DEL, C1) replaced by spaces.
pub(crate) fn safe_description(s: &str) -> String {
    let mut out: String =
        s.chars().map(|c| if c < ' ' || ('\u{7f}'..'\u{a0}').contains(&c) { ' ' } else { c }).collect();
    if out.len() > MAX_DESCRIPTION {
        let mut cut = MAX_DESCRIPTION;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

/// The longest error_description the host accepts (sdk/ABI.md §2).
const MAX_DESCRIPTION: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in [
            Code::InvalidRedirectUri,
            Code::InvalidClientMetadata,
            Code::InvalidSoftwareStatement,
            Code::UnapprovedSoftwareStatement,
            Code::InvalidScope,
            Code::UnauthorizedClient,
            Code::AccessDenied,
        ] {
            assert_eq!(Code::parse(c.as_str()), Some(c));
            let token = ["invalid_scope", "unauthorized_client", "access_denied"].contains(&c.as_str());
            assert_eq!(c.is_token_code(), token, "{}", c);
        }
        assert_eq!(Code::parse("invalid_request"), None);
    }

    #[test]
    fn descriptions_are_made_safe() {
        assert_eq!(safe_description("a\u{0}b\u{7f}c\u{85}d\u{a0}e\u{2028}"), "a b c d\u{a0}e\u{2028}");
        let long = "x".to_owned() + &"é".repeat(600);
        let safe = safe_description(&long);
        assert_eq!(safe.len(), 1023);
        assert!(safe.ends_with('é'));
    }
}
