//! statement-roles: a Registrar policy. A new client is admitted only when
//! its verified software statement (RFC 7591 §2.3) vouches for it with a
//! role or an organisation the tenant approves: a `software_roles` claim
//! holding one of the configured roles, or an `org_id` claim among the
//! configured organisations. Anything else is refused with
//! unapproved_software_statement. See ../README.md.

use registrar::{fail, reject, Code, Object, Phase, PolicyInput, PolicyOutput, Result};

registrar::policy!(check);

/// The module's configuration (policy_config.statement-roles).
struct Config {
    /// Approved software_roles.
    roles: Vec<String>,
    /// Approved org_id values.
    org_ids: Vec<String>,
    /// Accepted issuers; empty: every issuer the tenant trusts.
    issuers: Vec<String>,
}

fn parse_config(raw: Option<&str>) -> Result<Config> {
    let raw = raw.ok_or_else(|| fail("statement-roles is not configured: set policy_config.statement-roles"))?;
    let obj = Object::parse(raw).map_err(|_| fail("statement-roles: the configuration must be an object"))?;
    let list = |name: &str| -> Result<Vec<String>> {
        let v = obj
            .string_array(name)
            .map_err(|_| fail(format!("statement-roles: {} must be an array of strings", name)))?;
        Ok(v.unwrap_or_default().into_iter().map(|s| s.into_owned()).collect())
    };
    let cfg = Config { roles: list("roles")?, org_ids: list("org_ids")?, issuers: list("issuers")? };
    if cfg.roles.is_empty() && cfg.org_ids.is_empty() {
        return Err(fail("statement-roles: set roles or org_ids (or both): with neither, no client is admitted"));
    }
    Ok(cfg)
}

fn unapproved(why: &str) -> registrar::Error {
    reject(Code::UnapprovedSoftwareStatement, why)
}

/// Admits or refuses a registration by its software statement.
pub fn check(input: PolicyInput) -> Result<PolicyOutput> {
    let cfg = parse_config(input.config)?;
    if input.phase == Phase::Update {
        // An update carries no verified statement (it must send the
        // client's unchanged): the client was admitted when it registered.
        return Ok(PolicyOutput::new(input.metadata));
    }
    let st = match &input.software_statement {
        Some(st) if st.verified => st,
        _ => return Err(unapproved("a verified software statement is required")),
    };
    if !cfg.issuers.is_empty() && !cfg.issuers.iter().any(|i| *i == st.issuer) {
        return Err(unapproved(&format!("the software statement's issuer is not accepted here: {}", st.issuer)));
    }
    // The claims' own type errors would be invalid_client_metadata; a
    // statement is refused with the statement's code.
    let roles = st
        .claims
        .string_array("software_roles")
        .map_err(|_| unapproved("the software_roles claim must be an array of strings"))?
        .unwrap_or_default();
    let org = st.claims.string("org_id").map_err(|_| unapproved("the org_id claim must be a string"))?;
    let by_role = roles.iter().any(|r| cfg.roles.iter().any(|c| c == r));
    let by_org = org.map_or(false, |o| !o.is_empty() && cfg.org_ids.iter().any(|c| *c == o));
    if by_role || by_org {
        return Ok(PolicyOutput::new(input.metadata));
    }
    Err(unapproved("the software statement has no approved software_roles and no approved org_id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use registrar::run;

    const CONFIG: &str = r#"{"roles":["AISP","PISP"],"org_ids":["0015800001041RHAAY"]}"#;

    fn doc(statement: &str, config: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"policy","tenant":"acme","phase":"register","metadata":{{"client_name":"Pay"}},"software_statement":{},"config":{}}}"#,
            statement, config
        )
    }

    fn statement(claims: &str) -> String {
        format!(r#"{{"issuer":"https://directory.example","claims":{},"verified":true}}"#, claims)
    }

    #[test]
    fn admits_by_role_or_organisation() {
        for claims in [
            r#"{"software_roles":["CBPII","\u0041ISP"]}"#,
            r#"{"software_roles":["CBPII"],"org_id":"0015800001041RHAAY"}"#,
            r#"{"org_id":"0015800001041RHAAY"}"#,
        ] {
            assert_eq!(
                run::policy(check, &doc(&statement(claims), CONFIG)).unwrap(),
                r#"{"metadata":{"client_name":"Pay"}}"#
            );
        }
    }

    #[test]
    fn refuses() {
        for (st, why) in [
            ("null".to_owned(), "a verified software statement is required"),
            (
                r#"{"issuer":"https://directory.example","claims":{"software_roles":["AISP"]},"verified":false}"#
                    .to_owned(),
                "a verified software statement is required",
            ),
            (statement(r#"{"software_roles":["aisp"],"org_id":"other"}"#), "no approved software_roles"),
            (statement(r#"{"software_roles":"AISP"}"#), "the software_roles claim must be an array of strings"),
            (statement(r#"{"org_id":15800001041}"#), "the org_id claim must be a string"),
        ] {
            let out = run::policy(check, &doc(&st, CONFIG)).unwrap();
            assert!(out.starts_with(r#"{"error":"unapproved_software_statement""#) && out.contains(why), "{}", out);
        }
        let only = r#"{"roles":["AISP"],"issuers":["https://other.example"]}"#;
        let out = run::policy(check, &doc(&statement(r#"{"software_roles":["AISP"]}"#), only)).unwrap();
        assert!(out.contains("issuer is not accepted here: https://directory.example"), "{}", out);
    }

    #[test]
    fn a_bad_configuration_fails() {
        let st = statement(r#"{"software_roles":["AISP"]}"#);
        for config in ["null", r#"{"issuers":["x"]}"#, r#"{"roles":"AISP"}"#, "[1]"] {
            assert!(run::policy(check, &doc(&st, config)).is_err(), "{}", config);
        }
    }
}
