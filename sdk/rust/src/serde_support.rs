//! Typed access through serde (the optional `serde` feature): read the
//! module's configuration or a metadata member into any
//! `serde::Deserialize` type, and set a member from any `serde::Serialize`
//! value.

use crate::{fail, input::Envelope, object::Object, reject, Code, Result};
use serde::{de::DeserializeOwned, Serialize};

impl<'a> Envelope<'a> {
    /// The configuration (`policy_config.<module name>`) decoded into `T`:
    /// `Ok(None)` if there is none. A configuration that does not decode
    /// fails the call ([`fail`]): it is the operator's mistake, not the
    /// client's.
    pub fn config_as<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        match self.config {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw).map(Some).map_err(|e| fail(format!("policy_config: {}", e))),
        }
    }
}

impl<'a> Object<'a> {
    /// A member decoded into `T`; `None` if it is absent or null. A member
    /// that does not decode is rejected with `invalid_client_metadata`,
    /// like the other accessors.
    pub fn get_as<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.get(name) {
            None | Some("null") => Ok(None),
            Some(raw) => serde_json::from_str(raw)
                .map(Some)
                .map_err(|e| reject(Code::InvalidClientMetadata, format!("{} is not valid: {}", name, e))),
        }
    }

    /// Sets a member to a value serialized as JSON. A value that serde
    /// cannot write as JSON (a map with non-string keys) fails the call.
    pub fn set_as<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<()> {
        let raw = serde_json::to_string(value).map_err(|e| fail(format!("{}: {}", name, e)))?;
        self.set_raw(name, raw);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::run;
    use crate::{Object, PolicyInput, PolicyOutput, Result};
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize)]
    struct Config {
        max_uris: usize,
        #[serde(default)]
        tag: Option<String>,
    }

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Contact {
        name: String,
        email: String,
    }

    fn check(mut input: PolicyInput) -> Result<PolicyOutput> {
        let cfg: Config = input.config_as()?.unwrap_or(Config { max_uris: 1, tag: None });
        let uris: Vec<String> = input.metadata.get_as("redirect_uris")?.unwrap_or_default();
        if uris.len() > cfg.max_uris {
            return Err(crate::reject(crate::Code::InvalidRedirectUri, "too many redirect_uris"));
        }
        if let Some(tag) = cfg.tag {
            input.metadata.set_as("x_tag", &[tag])?;
        }
        Ok(PolicyOutput::new(input.metadata))
    }

    fn input(config: &str, uris: &str) -> String {
        format!(
            r#"{{"abi":1,"hook":"policy","phase":"register","tenant":"t","config":{},"metadata":{{"redirect_uris":{}}}}}"#,
            config, uris
        )
    }

    #[test]
    fn config_and_members_through_serde() {
        let cases = [
            (
                input(r#"{"max_uris":2,"tag":"a"}"#, r#"["https://a/","https://b/"]"#),
                Ok(r#"{"metadata":{"redirect_uris":["https://a/","https://b/"],"x_tag":["a"]}}"#.to_owned()),
            ),
            (
                input(r#"{"max_uris":1}"#, r#"["https://a/","https://b/"]"#),
                Ok(r#"{"error":"invalid_redirect_uri","error_description":"too many redirect_uris"}"#.to_owned()),
            ),
            (input("null", "null"), Ok(r#"{"metadata":{"redirect_uris":null}}"#.to_owned())),
            (input(r#"{"max_uris":1}"#, r#"[1]"#), Err("redirect_uris is not valid")),
            (input(r#"{"max_uris":"two"}"#, "[]"), Err("the policy hook failed: policy_config: invalid type")),
        ];
        for (doc, want) in cases {
            let got = run::policy(check, &doc);
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(w.as_str()), "{}", doc),
                Err(part) => {
                    let text = match &got {
                        Ok(out) => out.clone(),
                        Err(msg) => msg.clone(),
                    };
                    assert!(text.contains(part), "{}: got {:?}, want {:?}", doc, got, part);
                }
            }
        }
    }

    #[test]
    fn set_as_then_get_as_round_trips() {
        let mut o = Object::new();
        let c = Contact { name: "Ann \"A\"".to_owned(), email: "ann@example.com".to_owned() };
        o.set_as("contact", &c).unwrap();
        assert_eq!(o.to_json(), r#"{"contact":{"name":"Ann \"A\"","email":"ann@example.com"}}"#);
        assert_eq!(o.get_as::<Contact>("contact").unwrap(), Some(c));
        assert_eq!(o.get_as::<Contact>("absent").unwrap(), None);
        let err = o.get_as::<Vec<String>>("contact").unwrap_err();
        assert_eq!(err.rejection().map(|r| r.code), Some(crate::Code::InvalidClientMetadata));
    }
}
