//! no-rotation-for-open-banking: a Registrar rotate_registration_access_token
//! decision. Open Banking third-party providers keep their registration
//! access token across updates, as their ecosystems' DCR profiles expect;
//! every other client gets a new token on every update. See ../README.md.

use registrar::{fail, DecisionInput, Object, Result};

registrar::rotate_registration_access_token!(decide);

/// The Open Banking roles of UK OBIE software statements.
const DEFAULT_ROLES: [&str; 4] = ["AISP", "PISP", "CBPII", "ASPSP"];

/// The module's configuration (policy_config.no-rotation-for-open-banking).
struct Config {
    /// A client with one of these software_roles is an Open Banking client.
    roles: Vec<String>,
    /// A client whose software_id starts with one of these is one too.
    software_id_prefixes: Vec<String>,
    /// Every client of these tenants is one.
    tenants: Vec<String>,
}

fn parse_config(raw: Option<&str>) -> Result<Config> {
    let mut cfg = Config {
        roles: DEFAULT_ROLES.iter().map(|r| r.to_string()).collect(),
        software_id_prefixes: Vec::new(),
        tenants: Vec::new(),
    };
    let raw = match raw {
        Some(raw) => raw,
        None => return Ok(cfg),
    };
    let obj = Object::parse(raw).map_err(|_| fail("configuration must be a JSON object"))?;
    let list = |name: &str| -> Result<Option<Vec<String>>> {
        let v =
            obj.string_array(name).map_err(|_| fail(format!("configuration: {} must be an array of strings", name)))?;
        Ok(v.map(|v| v.into_iter().map(|s| s.into_owned()).collect()))
    };
    if let Some(roles) = list("software_roles")? {
        cfg.roles = roles;
    }
    cfg.software_id_prefixes = list("software_id_prefixes")?.unwrap_or_default();
    cfg.tenants = list("tenants")?.unwrap_or_default();
    if cfg.software_id_prefixes.iter().any(String::is_empty) {
        return Err(fail("configuration: an empty software_id prefix would match every client"));
    }
    Ok(cfg)
}

/// Rotate unless the client is an Open Banking client. The metadata is
/// validated by Registrar by now, but software_roles is an extension
/// member: a value of the wrong type is rejected.
fn decide(input: DecisionInput) -> Result<bool> {
    let cfg = parse_config(input.config)?;
    if cfg.tenants.iter().any(|t| *t == input.tenant) {
        return Ok(false);
    }
    let roles = input.metadata.string_array("software_roles")?.unwrap_or_default();
    if roles.iter().any(|r| cfg.roles.iter().any(|c| c == r)) {
        return Ok(false);
    }
    let software_id = input.metadata.string("software_id")?.unwrap_or_default();
    if cfg.software_id_prefixes.iter().any(|p| software_id.starts_with(p.as_str())) {
        return Ok(false);
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tenant: &str, metadata: &str, config: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"rotate_registration_access_token","tenant":"{}","phase":"update","client_id":"c1","metadata":{},"config":{}}}"#,
            tenant, metadata, config
        )
    }

    #[test]
    fn decisions() {
        let run = |t, m, c| registrar::run::rotate_registration_access_token(decide, &doc(t, m, c)).unwrap();
        assert_eq!(run("acme", r#"{"software_roles":["AISP"]}"#, "null"), r#"{"decision":false}"#);
        assert_eq!(run("acme", r#"{"software_roles":["other"]}"#, "null"), r#"{"decision":true}"#);
        assert_eq!(
            run("acme", r#"{"software_id":"ob-123"}"#, r#"{"software_id_prefixes":["ob-"]}"#),
            r#"{"decision":false}"#
        );
        assert_eq!(run("bank", r#"{}"#, r#"{"tenants":["bank"]}"#), r#"{"decision":false}"#);
        assert!(
            run("acme", r#"{"software_roles":"AISP"}"#, "null").contains("software_roles must be an array of strings")
        );
        assert!(registrar::run::rotate_registration_access_token(
            decide,
            &doc("acme", "{}", r#"{"software_id_prefixes":[""]}"#)
        )
        .is_err());
    }
}
