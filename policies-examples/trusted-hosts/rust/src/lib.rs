//! trusted-hosts: a Registrar policy module that accepts redirect URIs,
//! post-logout redirect URIs and client URIs only on the hosts its
//! configuration trusts, and gives clients without a name a default one.
//! See ../README.md; every language's trusted-hosts passes ../cases.json.

mod hosts;

use std::cell::RefCell;

use hosts::{quote, uri_host, Pattern};
use registrar::{fail, reject, Code, Object, PolicyInput, PolicyOutput, Result};

registrar::policy!(check);

/// The module's configuration (the tenant's policy_config.trusted-hosts).
struct Config {
    hosts: Vec<Pattern>,
    /// The client_name of clients that send none; "" for none.
    default_name: String,
    /// Accept redirect URIs without a host (com.example.app:/cb, RFC 8252
    /// §7.1), leaving them to Registrar's own checks.
    private_use: bool,
}

/// Reads the configuration. A bad one is the operator's mistake, not the
/// client's: it fails the call (server_error) rather than rejecting.
fn parse_config(raw: Option<&str>) -> Result<Config> {
    let raw = raw.ok_or_else(|| fail("no configuration: set policy_config.trusted-hosts.hosts for the tenant"))?;
    let obj = Object::parse(raw).map_err(|_| fail("configuration must be a JSON object"))?;
    let hosts = match obj.string_array("hosts") {
        Ok(Some(h)) if !h.is_empty() => h,
        _ => return Err(fail("configuration: hosts must be a non-empty array of host names")),
    };
    let hosts = hosts.iter().map(|h| Pattern::parse(h)).collect::<std::result::Result<Vec<_>, _>>();
    Ok(Config {
        hosts: hosts.map_err(|e| fail(format!("configuration: hosts: {}", e)))?,
        default_name: obj
            .string("default_client_name")
            .map_err(|_| fail("configuration: default_client_name must be a string"))?
            .unwrap_or_default()
            .into_owned(),
        private_use: obj
            .bool("allow_private_use_schemes")
            .map_err(|_| fail("configuration: allow_private_use_schemes must be true or false"))?
            .unwrap_or(false),
    })
}

thread_local! {
    /// The last configuration parsed, with its JSON: an instance usually
    /// serves one tenant, so this saves parsing it on every call. (An
    /// instance may be replaced at any time; this is only a cache.)
    static CACHE: RefCell<Option<(String, std::rc::Rc<Config>)>> = RefCell::new(None);
}

fn config(raw: Option<&str>) -> Result<std::rc::Rc<Config>> {
    let key = raw.unwrap_or("");
    if let Some(cfg) = CACHE.with(|c| c.borrow().as_ref().filter(|(k, _)| k == key).map(|(_, cfg)| cfg.clone())) {
        return Ok(cfg);
    }
    let cfg = std::rc::Rc::new(parse_config(raw)?);
    CACHE.with(|c| *c.borrow_mut() = Some((key.to_owned(), cfg.clone())));
    Ok(cfg)
}

fn check(mut input: PolicyInput) -> Result<PolicyOutput> {
    let cfg = config(input.config)?;
    let md = &mut input.metadata;
    cfg.check_uris(md, "redirect_uris", Code::InvalidRedirectUri, true)?;
    cfg.check_uris(md, "post_logout_redirect_uris", Code::InvalidClientMetadata, false)?;
    // client_uri and its language-tagged forms (client_uri#fr, RFC 7591 §2.2).
    let names: Vec<String> = md
        .iter()
        .map(|(name, _)| name)
        .filter(|name| *name == "client_uri" || name.starts_with("client_uri#"))
        .map(str::to_owned)
        .collect();
    for name in names {
        let uri = md.string(&name)?.unwrap_or_default();
        if uri.is_empty() {
            continue;
        }
        if let Some(msg) = cfg.judge(&uri, false) {
            return Err(reject(Code::InvalidClientMetadata, format!("{}: {} {}", name, quote(&uri), msg)));
        }
    }
    if !cfg.default_name.is_empty() && !md.has("client_name") {
        md.set_string("client_name", &cfg.default_name);
    }
    Ok(PolicyOutput::new(input.metadata))
}

impl Config {
    /// Judges every URI of an array member. A member of the wrong type is
    /// rejected: the policy runs before Registrar's validation, and a value
    /// it cannot read must not slip past it.
    fn check_uris(&self, md: &Object, name: &str, code: Code, redirect: bool) -> Result<()> {
        for uri in md.string_array(name)?.unwrap_or_default() {
            if let Some(msg) = self.judge(&uri, redirect) {
                return Err(reject(code, format!("{}: {} {}", name, quote(&uri), msg)));
            }
        }
        Ok(())
    }

    /// Why a URI is not acceptable, or None.
    fn judge(&self, uri: &str, redirect: bool) -> Option<String> {
        match uri_host(uri) {
            Err(e) => Some(e),
            Ok(host) if host.is_empty() && redirect && self.private_use => None, // Registrar's validation decides
            Ok(host) if host.is_empty() => Some("has no host".into()),
            Ok(host) if self.hosts.iter().any(|p| p.matches(&host)) => None,
            Ok(_) => Some("is not on a trusted host".into()),
        }
    }
}
