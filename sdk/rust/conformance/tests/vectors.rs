//! Replays the ABI vectors (sdk/testdata/vectors) natively through the
//! SDK's `run` functions. The host's test replays them against the built
//! module; this one checks the same answers without WebAssembly. Log lines
//! of successful calls go to standard error here and are not checked.

use std::fs;
use std::path::PathBuf;

use registrar::run;
use registrar_conformance::{check_policy, decide, issue_access_token, make_id, make_secret};

#[test]
fn vectors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors");
    let mut files: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().map_or(false, |e| e == "json"));
    files.sort();
    assert_eq!(files.len(), 6, "one vector file per hook in {}", dir.display());
    let mut failures = Vec::new();
    let mut n = 0;
    for path in files {
        let text = fs::read_to_string(&path).unwrap();
        let file = Json::parse(&text).unwrap_or_else(|e| panic!("{}: {}", path.display(), e));
        let hook = file.get("hook").and_then(Json::str).expect("hook");
        let hook = hook.as_str();
        for v in file.get("vectors").and_then(Json::array).expect("vectors") {
            n += 1;
            let name = v.get("name").and_then(Json::str).unwrap();
            let doc = match (v.get("input"), v.get("input_text")) {
                (Some(input), None) => input.to_string(),
                (None, Some(text)) => text.str().unwrap(),
                _ => panic!("{}: {}: needs one of input, input_text", hook, name),
            };
            let got = match hook {
                "policy" => run::policy(check_policy, &doc),
                "id_factory" => run::id_factory(make_id, &doc),
                "secret_factory" => run::secret_factory(make_secret, &doc),
                "issue_registration_access_token" => run::issue_registration_access_token(decide, &doc),
                "rotate_registration_access_token" => run::rotate_registration_access_token(decide, &doc),
                "issue_access_token" => run::issue_access_token(issue_access_token, &doc),
                _ => panic!("unknown hook {}", hook),
            };
            if let Err(why) = check(v, got) {
                failures.push(format!("{}: {}: {}", hook, name, why));
            }
        }
    }
    assert!(n > 50, "only {} vectors", n);
    assert!(failures.is_empty(), "{} of {} vectors failed:\n{}", failures.len(), n, failures.join("\n"));
}

fn check(v: &Json, got: Result<String, String>) -> Result<(), String> {
    if v.get("want_failure") == Some(&Json::Bool(true)) {
        let msg = match got {
            Ok(out) => return Err(format!("succeeded with {}; want a failure", out)),
            Err(msg) => msg,
        };
        let want = v.get("want_log").and_then(Json::str).unwrap_or_default();
        if !msg.contains(&want) {
            return Err(format!("failure {:?} does not contain {:?}", msg, want));
        }
        return Ok(());
    }
    let out = got.map_err(|msg| format!("failed: {}", msg))?;
    let parsed = Json::parse(&out).map_err(|e| format!("output {} is not JSON: {}", out, e))?;
    if let Some(want) = v.get("want") {
        if &parsed != want {
            return Err(format!("output {}\nwant {}", out, want));
        }
    } else if let Some(Json::Object(patterns)) = v.get("want_match") {
        let members = match &parsed {
            Json::Object(members) => members,
            _ => return Err(format!("output {} is not an object", out)),
        };
        if members.len() != patterns.len() {
            return Err(format!("output {} has members beyond {}", out, v.get("want_match").unwrap()));
        }
        for (name, pattern) in patterns {
            let s = parsed.get(name).and_then(Json::str).unwrap_or_default();
            if !matches(&pattern.str().unwrap(), &s) {
                return Err(format!("{} = {:?} does not match {}", name, s, pattern));
            }
        }
    }
    Ok(())
}

/// Matches the regular expressions of the vectors: ^, $, literal
/// characters, [...] classes of ranges, each optionally followed by {n}.
fn matches(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.trim_start_matches('^').trim_end_matches('$').chars().collect();
    let s: Vec<char> = s.chars().collect();
    let (mut i, mut at) = (0, 0);
    while i < p.len() {
        let (class, next): (Box<dyn Fn(char) -> bool>, usize) = if p[i] == '[' {
            let end = i + p[i..].iter().position(|&c| c == ']').unwrap();
            let set: Vec<char> = p[i + 1..end].to_vec();
            let f = move |c: char| {
                set.chunks(1).enumerate().any(|(k, _)| {
                    if k + 2 < set.len() && set[k + 1] == '-' {
                        set[k] <= c && c <= set[k + 2]
                    } else {
                        set[k] == c
                    }
                })
            };
            (Box::new(f), end + 1)
        } else {
            let lit = p[i];
            (Box::new(move |c| c == lit), i + 1)
        };
        let (mut count, mut after) = (1, next);
        if p.get(next) == Some(&'{') {
            let end = next + p[next..].iter().position(|&c| c == '}').unwrap();
            count = p[next + 1..end].iter().collect::<String>().parse().unwrap();
            after = end + 1;
        }
        for _ in 0..count {
            if at >= s.len() || !class(s[at]) {
                return false;
            }
            at += 1;
        }
        i = after;
    }
    at == s.len()
}

/// A JSON value with members in order: an independent reader, so that the
/// test does not check the SDK with itself. Numbers compare as written;
/// strings are kept as UTF-16 code units, so that lone surrogates written
/// as escapes survive being written out again.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(Vec<u16>),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn parse(s: &str) -> Result<Json, String> {
        let b: Vec<char> = s.chars().collect();
        let mut i = 0;
        let v = Json::value(&b, &mut i)?;
        Json::space(&b, &mut i);
        if i != b.len() {
            return Err(format!("data after the value at {}", i));
        }
        Ok(v)
    }

    fn space(b: &[char], i: &mut usize) {
        while *i < b.len() && " \t\r\n".contains(b[*i]) {
            *i += 1;
        }
    }

    fn value(b: &[char], i: &mut usize) -> Result<Json, String> {
        Json::space(b, i);
        let c = *b.get(*i).ok_or("unexpected end")?;
        match c {
            '{' => {
                *i += 1;
                let mut members = Vec::new();
                Json::space(b, i);
                if b.get(*i) == Some(&'}') {
                    *i += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    Json::space(b, i);
                    let name = match Json::value(b, i)? {
                        Json::Str(units) => String::from_utf16_lossy(&units),
                        _ => return Err("member name".into()),
                    };
                    Json::space(b, i);
                    if b.get(*i) != Some(&':') {
                        return Err(format!("':' expected at {}", i));
                    }
                    *i += 1;
                    members.push((name, Json::value(b, i)?));
                    Json::space(b, i);
                    match b.get(*i) {
                        Some(',') => *i += 1,
                        Some('}') => {
                            *i += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(format!("',' or '}}' expected at {}", i)),
                    }
                }
            }
            '[' => {
                *i += 1;
                let mut elems = Vec::new();
                Json::space(b, i);
                if b.get(*i) == Some(&']') {
                    *i += 1;
                    return Ok(Json::Array(elems));
                }
                loop {
                    elems.push(Json::value(b, i)?);
                    Json::space(b, i);
                    match b.get(*i) {
                        Some(',') => *i += 1,
                        Some(']') => {
                            *i += 1;
                            return Ok(Json::Array(elems));
                        }
                        _ => return Err(format!("',' or ']' expected at {}", i)),
                    }
                }
            }
            '"' => {
                *i += 1;
                let mut units: Vec<u16> = Vec::new();
                loop {
                    let c = *b.get(*i).ok_or("unterminated string")?;
                    *i += 1;
                    match c {
                        '"' => return Ok(Json::Str(units)),
                        '\\' => {
                            let e = *b.get(*i).ok_or("bad escape")?;
                            *i += 1;
                            let u = match e {
                                'b' => 8,
                                'f' => 12,
                                'n' => 10,
                                'r' => 13,
                                't' => 9,
                                'u' => {
                                    let hex: String = b.get(*i..*i + 4).ok_or("bad \\u")?.iter().collect();
                                    *i += 4;
                                    u16::from_str_radix(&hex, 16).map_err(|e| e.to_string())?
                                }
                                other => other as u16,
                            };
                            units.push(u);
                        }
                        c => {
                            let mut buf = [0u16; 2];
                            units.extend_from_slice(c.encode_utf16(&mut buf));
                        }
                    }
                }
            }
            't' | 'f' | 'n' => {
                for (lit, v) in [("true", Json::Bool(true)), ("false", Json::Bool(false)), ("null", Json::Null)] {
                    if b[*i..].iter().take(lit.len()).copied().eq(lit.chars()) {
                        *i += lit.len();
                        return Ok(v);
                    }
                }
                Err(format!("bad literal at {}", i))
            }
            _ => {
                let start = *i;
                while *i < b.len() && "-+.eE0123456789".contains(b[*i]) {
                    *i += 1;
                }
                if start == *i {
                    return Err(format!("unexpected {:?} at {}", c, start));
                }
                Ok(Json::Num(b[start..*i].iter().collect()))
            }
        }
    }

    fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<String> {
        match self {
            Json::Str(units) => Some(String::from_utf16_lossy(units)),
            _ => None,
        }
    }

    fn array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }
}

/// Writes compact JSON; strings with the escapes JSON requires.
impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Json::Null => f.write_str("null"),
            Json::Bool(b) => write!(f, "{}", b),
            Json::Num(n) => f.write_str(n),
            Json::Str(units) => {
                f.write_str("\"")?;
                for r in char::decode_utf16(units.iter().copied()) {
                    match r {
                        Ok('"') => f.write_str("\\\"")?,
                        Ok('\\') => f.write_str("\\\\")?,
                        Ok(c) if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
                        Ok(c) => write!(f, "{}", c)?,
                        Err(e) => write!(f, "\\u{:04x}", e.unpaired_surrogate())?,
                    }
                }
                f.write_str("\"")
            }
            Json::Array(a) => {
                f.write_str("[")?;
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}", v)?;
                }
                f.write_str("]")
            }
            Json::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{}", Json::Str(k.encode_utf16().collect()), v)?;
                }
                f.write_str("}")
            }
        }
    }
}
