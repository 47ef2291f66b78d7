use std::borrow::Cow;

use crate::error::{reject, Code, Result};
use crate::json::{self, Decoder, JsonError};

/// A JSON object, such as client metadata, with its member values kept as
/// raw JSON in document order. The typed accessors decode a value on
/// demand and the setters encode one; [`get`](Object::get),
/// [`set_raw`](Object::set_raw) and [`remove`](Object::remove) work on raw
/// values. Values read from the input are borrowed from it (`'a`), so
/// reading a plain string does not allocate, and what an accessor returns
/// does not borrow the object: you can read a member and then set another.
///
/// Policy metadata is not yet validated: any member may have the wrong
/// type. The accessors never panic on that: they return a rejection with
/// `invalid_client_metadata` ("redirect_uris must be an array of strings"),
/// which a hook returns with `?`. A member whose value is `null` reads as
/// absent (`Ok(None)`), as Registrar treats it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object<'a> {
    members: Vec<Member<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Member<'a> {
    name: Cow<'a, str>,
    /// The name as written in the input, quotes included, when it can be
    /// written out again as it is.
    quoted: Option<&'a str>,
    value: Cow<'a, str>,
}

impl<'a> Object<'a> {
    /// An empty object.
    pub fn new() -> Self {
        Object { members: Vec::new() }
    }

    /// Parses a JSON object; the result borrows from `src`.
    pub fn parse(src: &'a str) -> std::result::Result<Self, JsonError> {
        let mut d = Decoder::new(src);
        let o = Object::read(&mut d)?;
        d.end()?;
        Ok(o)
    }

    pub(crate) fn read(d: &mut Decoder<'a>) -> std::result::Result<Self, JsonError> {
        let mut members = Vec::with_capacity(16);
        d.object(|d, name, quoted| {
            let value = Cow::Borrowed(d.raw()?);
            members.push(Member { name, quoted, value });
            Ok(())
        })?;
        Ok(Object { members })
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Reports whether the object has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in order: names and raw values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.members.iter().map(|m| (&*m.name, &*m.value))
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| m.name == name)
    }

    /// A member's raw value, if it is present (null included).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.index(name).map(|i| &*self.members[i].value)
    }

    /// A member's raw value unless it is absent or null, keeping the input's
    /// lifetime when the value came from the input.
    fn value(&self, name: &str) -> Option<&Cow<'a, str>> {
        let i = self.index(name)?;
        let v = &self.members[i].value;
        if v == "null" {
            None
        } else {
            Some(v)
        }
    }

    /// Reports whether the member is present and not null.
    pub fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// Sets a member to a raw JSON value, in its place if it is present,
    /// else at the end.
    ///
    /// # Panics
    ///
    /// If `value` is not valid JSON.
    pub fn set_raw(&mut self, name: &str, value: impl Into<Cow<'a, str>>) {
        let value = value.into();
        assert!(json::valid(&value), "registrar: Object::set_raw({:?}): the value is not valid JSON", name);
        self.set(name, value);
    }

    fn set(&mut self, name: &str, value: Cow<'a, str>) {
        match self.index(name) {
            Some(i) => self.members[i].value = value,
            None => self.members.push(Member { name: Cow::Owned(name.to_owned()), quoted: None, value }),
        }
    }

    /// Removes a member, if present.
    pub fn remove(&mut self, name: &str) {
        if let Some(i) = self.index(name) {
            self.members.remove(i);
        }
    }

    /// A string member; `None` if it is absent or null.
    pub fn string(&self, name: &str) -> Result<Option<Cow<'a, str>>> {
        match self.value(name) {
            None => Ok(None),
            Some(Cow::Borrowed(v)) => json::decode_string(v).map(Some).ok_or_else(|| type_error(name, "a string")),
            Some(Cow::Owned(v)) => json::decode_string(v)
                .map(|s| Some(Cow::Owned(s.into_owned())))
                .ok_or_else(|| type_error(name, "a string")),
        }
    }

    /// An array-of-strings member; `None` if it is absent or null.
    pub fn string_array(&self, name: &str) -> Result<Option<Vec<Cow<'a, str>>>> {
        let bad = || type_error(name, "an array of strings");
        match self.value(name) {
            None => Ok(None),
            Some(Cow::Borrowed(v)) => json::decode_strings(v).map(Some).ok_or_else(bad),
            Some(Cow::Owned(v)) => json::decode_strings(v)
                .map(|ss| Some(ss.into_iter().map(|s| Cow::Owned(s.into_owned())).collect()))
                .ok_or_else(bad),
        }
    }

    /// A boolean member; `None` if it is absent or null.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.value(name).map(|v| &**v) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(type_error(name, "true or false")),
        }
    }

    /// An integer member written without fraction or exponent; `None` if
    /// it is absent or null.
    pub fn i64(&self, name: &str) -> Result<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => json::decode_i64(v).map(Some).ok_or_else(|| type_error(name, "an integer")),
        }
    }

    /// An object member; `None` if it is absent or null.
    pub fn object(&self, name: &str) -> Result<Option<Object<'a>>> {
        match self.value(name) {
            None => Ok(None),
            Some(Cow::Borrowed(v)) => Object::parse(v).map(Some).map_err(|_| type_error(name, "an object")),
            Some(Cow::Owned(v)) => {
                Object::parse(v).map(|o| Some(o.into_owned())).map_err(|_| type_error(name, "an object"))
            }
        }
    }

    /// Sets a member to a string.
    pub fn set_string(&mut self, name: &str, value: &str) {
        let mut b = Vec::with_capacity(value.len() + 2);
        json::write_string(&mut b, value);
        self.set(name, Cow::Owned(into_string(b)));
    }

    /// Sets a member to an array of strings.
    pub fn set_string_array<S: AsRef<str>>(&mut self, name: &str, value: &[S]) {
        let mut b = Vec::new();
        json::write_strings(&mut b, value);
        self.set(name, Cow::Owned(into_string(b)));
    }

    /// Sets a member to true or false.
    pub fn set_bool(&mut self, name: &str, value: bool) {
        self.set(name, Cow::Borrowed(if value { "true" } else { "false" }));
    }

    /// Sets a member to an integer.
    pub fn set_i64(&mut self, name: &str, value: i64) {
        self.set(name, Cow::Owned(value.to_string()));
    }

    /// Sets a member to an object.
    pub fn set_object(&mut self, name: &str, value: &Object<'_>) {
        self.set(name, Cow::Owned(value.to_json()));
    }

    /// Appends the object to `out` as JSON, members in order.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, m) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match m.quoted {
                Some(q) => out.extend_from_slice(q.as_bytes()),
                None => json::write_string(out, &m.name),
            }
            out.push(b':');
            out.extend_from_slice(m.value.as_bytes());
        }
        out.push(b'}');
    }

    /// The object as JSON, members in order.
    pub fn to_json(&self) -> String {
        let mut b = Vec::new();
        self.write_json(&mut b);
        into_string(b)
    }

    /// A copy that borrows nothing.
    pub fn into_owned(self) -> Object<'static> {
        Object {
            members: self
                .members
                .into_iter()
                .map(|m| Member {
                    name: Cow::Owned(m.name.into_owned()),
                    quoted: None,
                    value: Cow::Owned(m.value.into_owned()),
                })
                .collect(),
        }
    }
}

/// The writers produce UTF-8 from UTF-8 input.
fn into_string(b: Vec<u8>) -> String {
    String::from_utf8(b).expect("registrar: JSON writer produced invalid UTF-8")
}

fn type_error(name: &str, want: &str) -> crate::Error {
    reject(Code::InvalidClientMetadata, format!("{} must be {}", name, want))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"redirect_uris":["https://a.example/cb"],"client_name":"App","n":3,"ok":true,"nul":null,"jwks":{"keys":[]},"x_\u00e9":"\u00e9"}"#;

    #[test]
    fn reads_members() {
        let o = Object::parse(DOC).unwrap();
        assert_eq!(o.len(), 7);
        assert_eq!(o.string("client_name").unwrap().as_deref(), Some("App"));
        assert!(matches!(o.string("client_name").unwrap(), Some(Cow::Borrowed(_))));
        assert_eq!(o.string_array("redirect_uris").unwrap().unwrap(), vec!["https://a.example/cb"]);
        assert_eq!(o.i64("n").unwrap(), Some(3));
        assert_eq!(o.bool("ok").unwrap(), Some(true));
        assert_eq!(o.string("nul").unwrap(), None);
        assert!(!o.has("nul") && o.get("nul") == Some("null"));
        assert_eq!(o.string("absent").unwrap(), None);
        assert_eq!(o.object("jwks").unwrap().unwrap().get("keys"), Some("[]"));
        assert_eq!(o.string("x_é").unwrap().as_deref(), Some("é"));
    }

    #[test]
    fn type_errors_are_rejections() {
        let o = Object::parse(DOC).unwrap();
        let cases: Vec<(crate::Error, &str)> = vec![
            (o.string("n").unwrap_err(), "n must be a string"),
            (o.string_array("client_name").unwrap_err(), "client_name must be an array of strings"),
            (o.bool("n").unwrap_err(), "n must be true or false"),
            (o.i64("ok").unwrap_err(), "ok must be an integer"),
            (o.object("redirect_uris").unwrap_err(), "redirect_uris must be an object"),
        ];
        for (err, want) in cases {
            let r = err.rejection().expect("a rejection");
            assert_eq!((r.code, r.description.as_str()), (Code::InvalidClientMetadata, want));
        }
    }

    #[test]
    fn writes_members_in_order() {
        let mut o = Object::parse(DOC).unwrap();
        o.set_string("client_name", "A \"B\"");
        o.remove("jwks");
        o.remove("absent");
        o.set_i64("n", -7);
        o.set_bool("z", false);
        o.set_string_array("grant_types", &["authorization_code"]);
        o.set_raw("nul", "[1, 2]");
        assert_eq!(
            o.to_json(),
            r#"{"redirect_uris":["https://a.example/cb"],"client_name":"A \"B\"","n":-7,"ok":true,"nul":[1, 2],"x_é":"\u00e9","z":false,"grant_types":["authorization_code"]}"#
        );
        // What a setter wrote reads back.
        assert_eq!(o.string("client_name").unwrap().as_deref(), Some("A \"B\""));
        assert_eq!(o.i64("n").unwrap(), Some(-7));
    }

    #[test]
    #[should_panic(expected = "not valid JSON")]
    fn set_raw_refuses_invalid_json() {
        Object::new().set_raw("a", "[1,");
    }

    #[test]
    fn parse_refuses_what_is_not_one_object() {
        for s in ["[]", "\"a\"", "{\"a\":1} {}", "{\"a\":}", ""] {
            assert!(Object::parse(s).is_err(), "{}", s);
        }
    }
}
