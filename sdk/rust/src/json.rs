//! Reading and writing the JSON of the module ABI without serde: a
//! validating pull decoder that hands out raw values as slices of its input,
//! and appenders for output documents.
//!
//! Under Registrar's host every loop iteration of a module pays a deadline
//! check (sdk/README.md), so the decoder walks each document once, skips
//! nested values in one non-recursive loop, and scans string contents eight
//! bytes at a time.

use std::borrow::Cow;
use std::fmt;

/// Nesting deeper than this is refused, as Go's encoding/json does.
const MAX_DEPTH: usize = 10_000;

/// Malformed JSON, or a value of another kind where a kind was required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// The byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: &'static str,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at offset {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for JsonError {}

pub(crate) const NOT_OBJECT: &str = "not a JSON object";
pub(crate) const NOT_ARRAY: &str = "not a JSON array";
pub(crate) const NOT_STRING: &str = "not a JSON string";

/// A pull decoder over one document.
pub(crate) struct Decoder<'a> {
    src: &'a str,
    i: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Decoder { src, i: 0 }
    }

    fn err<T>(&self, offset: usize, message: &'static str) -> Result<T, JsonError> {
        Err(JsonError { offset, message })
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn skip_space(&mut self) {
        let b = self.bytes();
        while self.i < b.len() && matches!(b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    /// The first byte of the next value, or 0 at the end.
    pub(crate) fn peek(&mut self) -> u8 {
        self.skip_space();
        self.bytes().get(self.i).copied().unwrap_or(0)
    }

    /// Checks that only white space is left.
    pub(crate) fn end(&mut self) -> Result<(), JsonError> {
        self.skip_space();
        if self.i != self.src.len() {
            return self.err(self.i, "data after the value");
        }
        Ok(())
    }

    /// Reads a null if one comes next.
    pub(crate) fn null(&mut self) -> bool {
        if self.peek() == b'n' && self.bytes()[self.i..].starts_with(b"null") {
            self.i += 4;
            return true;
        }
        false
    }

    /// Reads any value, validating it, and returns it as written.
    pub(crate) fn raw(&mut self) -> Result<&'a str, JsonError> {
        self.skip_space();
        let start = self.i;
        self.skip()?;
        Ok(&self.src[start..self.i])
    }

    /// Reads a string. A valid value of another kind is consumed and is
    /// the error NOT_STRING.
    pub(crate) fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        if self.peek() != b'"' {
            let at = self.i;
            self.raw()?;
            return self.err(at, NOT_STRING);
        }
        let start = self.i;
        let (end, plain) = self.string_end(start)?;
        self.i = end;
        let body = &self.src[start + 1..end - 1];
        Ok(if plain { Cow::Borrowed(body) } else { Cow::Owned(unescape(body)) })
    }

    /// Reads an array of strings.
    pub(crate) fn strings(&mut self) -> Result<Vec<Cow<'a, str>>, JsonError> {
        let mut out = Vec::new();
        self.array(|d| {
            out.push(d.string()?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads an object, calling f with each member's name (unescaped) and
    /// its quoted form as written when that is plain ASCII without
    /// escapes. f must read the member's value. A valid value of another
    /// kind is consumed and is the error NOT_OBJECT.
    pub(crate) fn object<F>(&mut self, mut f: F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Self, Cow<'a, str>, Option<&'a str>) -> Result<(), JsonError>,
    {
        if self.peek() != b'{' {
            let at = self.i;
            self.raw()?;
            return self.err(at, NOT_OBJECT);
        }
        self.i += 1;
        if self.peek() == b'}' {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek() != b'"' {
                return self.err(self.i, "expected a member name");
            }
            let start = self.i;
            let (end, plain) = self.string_end(start)?;
            let body = &self.src[start + 1..end - 1];
            let (name, quoted) = if plain {
                (Cow::Borrowed(body), Some(&self.src[start..end]))
            } else {
                (Cow::Owned(unescape(body)), None)
            };
            self.i = end;
            if self.peek() != b':' {
                return self.err(self.i, "expected ':' after a member name");
            }
            self.i += 1;
            f(self, name, quoted)?;
            match self.peek() {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err(self.i, "expected ',' or '}' in an object"),
            }
        }
    }

    /// Reads an array, calling f to read each element. A valid value of
    /// another kind is consumed and is the error NOT_ARRAY.
    pub(crate) fn array<F>(&mut self, mut f: F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Self) -> Result<(), JsonError>,
    {
        if self.peek() != b'[' {
            let at = self.i;
            self.raw()?;
            return self.err(at, NOT_ARRAY);
        }
        self.i += 1;
        if self.peek() == b']' {
            self.i += 1;
            return Ok(());
        }
        loop {
            f(self)?;
            match self.peek() {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return self.err(self.i, "expected ',' or ']' in an array"),
            }
        }
    }

    /// Skips one value, validating it, in one loop without recursion.
    fn skip(&mut self) -> Result<(), JsonError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Expect {
            Value,
            NameOrClose,
            ValueOrClose,
            Name,
            Colon,
            CommaOrClose,
        }
        let b = self.bytes();
        let mut i = self.i;
        // Kinds of the open containers (true: object); the first 64 in
        // bits, deeper ones in a vector.
        let mut bits: u64 = 0;
        let mut deeper: Vec<bool> = Vec::new();
        let mut depth = 0usize;
        let mut state = Expect::Value;
        loop {
            let c = match b.get(i) {
                Some(&c) => c,
                None => return self.err(i, "unexpected end of JSON"),
            };
            if c <= b' ' {
                if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                    continue;
                }
                return self.err(i, "unexpected control character");
            }
            let in_object = |depth: usize, bits: u64, deeper: &Vec<bool>| {
                if depth <= 64 {
                    bits >> (depth - 1) & 1 == 1
                } else {
                    deeper[depth - 65]
                }
            };
            match state {
                Expect::Colon => {
                    if c != b':' {
                        return self.err(i, "expected ':' after a member name");
                    }
                    i += 1;
                    state = Expect::Value;
                    continue;
                }
                Expect::CommaOrClose => {
                    let obj = in_object(depth, bits, &deeper);
                    if c == b',' {
                        i += 1;
                        state = if obj { Expect::Name } else { Expect::Value };
                        continue;
                    }
                    if c == b'}' || c == b']' {
                        if obj != (c == b'}') {
                            return self.err(i, "mismatched bracket");
                        }
                        if depth > 64 {
                            deeper.pop();
                        }
                        i += 1;
                        depth -= 1;
                        if depth == 0 {
                            self.i = i;
                            return Ok(());
                        }
                        continue;
                    }
                    return self.err(i, "expected ',' or the end of a container");
                }
                Expect::NameOrClose | Expect::ValueOrClose => {
                    let close = if state == Expect::NameOrClose { b'}' } else { b']' };
                    if c == close {
                        if depth > 64 {
                            deeper.pop();
                        }
                        i += 1;
                        depth -= 1;
                        if depth == 0 {
                            self.i = i;
                            return Ok(());
                        }
                        state = Expect::CommaOrClose;
                        continue;
                    }
                    state = if state == Expect::NameOrClose { Expect::Name } else { Expect::Value };
                }
                _ => {}
            }
            if state == Expect::Name {
                if c != b'"' {
                    return self.err(i, "expected a member name");
                }
                i = self.string_end(i)?.0;
                state = Expect::Colon;
                continue;
            }
            match c {
                b'"' => i = self.string_end(i)?.0,
                b'{' | b'[' => {
                    if depth >= MAX_DEPTH {
                        return self.err(i, "nested too deeply");
                    }
                    if depth < 64 {
                        bits = bits & !(1 << depth) | ((c == b'{') as u64) << depth;
                    } else {
                        deeper.push(c == b'{');
                    }
                    depth += 1;
                    i += 1;
                    state = if c == b'{' { Expect::NameOrClose } else { Expect::ValueOrClose };
                    continue;
                }
                b't' | b'f' | b'n' => {
                    let lit: &[u8] = match c {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    if !b[i..].starts_with(lit) {
                        return self.err(i, "invalid literal");
                    }
                    i += lit.len();
                }
                b'-' | b'0'..=b'9' => match number(b, i) {
                    Some(end) => i = end,
                    None => return self.err(i, "invalid number"),
                },
                _ => return self.err(i, "expected a value"),
            }
            if depth == 0 {
                self.i = i;
                return Ok(());
            }
            state = Expect::CommaOrClose;
        }
    }

    /// Scans the string that starts at b[i] == '"' and returns the offset
    /// after its closing quote, and whether its body is plain: ASCII
    /// without escapes, so that its bytes are its value.
    fn string_end(&self, start: usize) -> Result<(usize, bool), JsonError> {
        let b = self.bytes();
        let mut i = start + 1;
        let mut plain = true;
        loop {
            let (next, ascii) = plain_run(b, i);
            i = next;
            plain &= ascii;
            match b.get(i) {
                None => return self.err(start, "unterminated string"),
                Some(b'"') => return Ok((i + 1, plain)),
                Some(b'\\') => {
                    plain = false;
                    match b.get(i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            if b.len() < i + 6 || hex4(&b[i + 2..i + 6]).is_none() {
                                return self.err(i, "invalid \\u escape");
                            }
                            i += 6;
                        }
                        None => return self.err(start, "unterminated string"),
                        _ => return self.err(i, "invalid escape"),
                    }
                }
                Some(_) => return self.err(i, "control character in a string"),
            }
        }
    }
}

/// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    if b[i] == b'-' {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let j = digits(i + 1);
        if j == i + 1 {
            return None;
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let j = digits(i);
        if j == i {
            return None;
        }
        i = j;
    }
    Some(i)
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of w that is '"', '\\', a control character
/// or not ASCII; a borrow can only spoil the bytes above the first match.
#[inline]
fn stops(w: u64) -> u64 {
    let q = w ^ (ONES * b'"' as u64);
    let s = w ^ (ONES * b'\\' as u64);
    (q.wrapping_sub(ONES) & !q | s.wrapping_sub(ONES) & !s | w.wrapping_sub(ONES * 0x20) & !w | w) & HIGHS
}

/// Returns the offset of the first '"', '\\' or control character at or
/// after i, and whether the bytes before it were all ASCII.
#[inline]
fn plain_run(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut ascii = true;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        let m = stops(u64::from_le_bytes(word));
        if m == 0 {
            i += 8;
            continue;
        }
        i += (m.trailing_zeros() >> 3) as usize;
        if b[i] < 0x80 {
            return (i, ascii);
        }
        ascii = false;
        i += 1;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return (i, ascii);
        }
        ascii &= c < 0x80;
        i += 1;
    }
    (i, ascii)
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut r = 0u32;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        r = r << 4 | d as u32;
    }
    Some(r)
}

/// Decodes the body of a valid JSON string. Lone surrogates become U+FFFD.
pub(crate) fn unescape(body: &str) -> String {
    let b = body.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let (next, _) = plain_run(b, i);
        out.push_str(&body[i..next]);
        i = next;
        if i >= b.len() {
            break;
        }
        // b[i] is a backslash: the body of a valid string has no quote or
        // control character.
        let c = match b[i + 1] {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let r = hex4(&b[i + 2..i + 6]).unwrap_or(0xfffd);
                i += 6;
                let c = if (0xd800..0xdc00).contains(&r) {
                    let low = if b.len() >= i + 6 && b[i] == b'\\' && b[i + 1] == b'u' {
                        hex4(&b[i + 2..i + 6]).filter(|r2| (0xdc00..0xe000).contains(r2))
                    } else {
                        None
                    };
                    match low {
                        Some(r2) => {
                            i += 6;
                            char::from_u32(0x10000 + ((r - 0xd800) << 10) + (r2 - 0xdc00))
                        }
                        None => None,
                    }
                } else {
                    char::from_u32(r)
                };
                out.push(c.unwrap_or('\u{fffd}'));
                continue;
            }
            other => other as char, // '"', '\\', '/'
        };
        out.push(c);
        i += 2;
    }
    out
}

/// Appends s to out as a JSON string. Quotes, backslashes and control
/// characters are escaped, as are U+2028 and U+2029.
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let escape: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            0xe2 if b.len() >= i + 3 && b[i + 1] == 0x80 && (b[i + 2] == 0xa8 || b[i + 2] == 0xa9) => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        if !escape.is_empty() {
            out.extend_from_slice(escape);
            i += 1;
        } else if c == 0xe2 {
            out.extend_from_slice(if b[i + 2] == 0xa8 { b"\\u2028" } else { b"\\u2029" });
            i += 3;
        } else {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
            i += 1;
        }
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Appends an array of strings.
pub(crate) fn write_strings<S: AsRef<str>>(out: &mut Vec<u8>, ss: &[S]) {
    out.push(b'[');
    for (i, s) in ss.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, s.as_ref());
    }
    out.push(b']');
}

/// Reports whether s is exactly one valid JSON value, with optional white
/// space around it.
pub(crate) fn valid(s: &str) -> bool {
    let mut d = Decoder::new(s);
    d.raw().is_ok() && d.end().is_ok()
}

/// Decodes a raw JSON string value (quotes included); None if raw is not
/// one.
pub(crate) fn decode_string(raw: &str) -> Option<Cow<'_, str>> {
    let mut d = Decoder::new(raw);
    let s = d.string().ok()?;
    d.end().ok()?;
    Some(s)
}

/// Decodes a raw JSON array of strings; None if raw is not one.
pub(crate) fn decode_strings(raw: &str) -> Option<Vec<Cow<'_, str>>> {
    let mut d = Decoder::new(raw);
    let ss = d.strings().ok()?;
    d.end().ok()?;
    Some(ss)
}

/// Parses an integer written without fraction or exponent that fits in 64
/// bits.
pub(crate) fn decode_i64(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_valid_values() {
        for s in [
            "0",
            "-0",
            "1.5e+3",
            "-12.25E-2",
            "true",
            "false",
            "null",
            "\"\"",
            "\"a\\u00e9\\\"\"",
            "[]",
            "{}",
            "[1,[2,[3,{\"a\":[{}]}]]]",
            " {\"a\" : [ 1 , 2 ] , \"b\" : { } } ",
        ] {
            assert!(valid(s), "{:?} is valid", s);
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(valid(&deep));
        let deeper = "[{\"a\":".repeat(70) + "1" + &"}]".repeat(70);
        assert!(valid(&deeper));
    }

    #[test]
    fn refuses_invalid_values() {
        for s in [
            "",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "tru",
            "nul",
            "\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"a\nb\"",
            "[1,]",
            "[1 2]",
            "{\"a\"}",
            "{\"a\":}",
            "{a:1}",
            "{\"a\":1,}",
            "[}",
            "{]",
            "[1]]",
            "{\"a\":1}x",
            "\u{1}",
        ] {
            assert!(!valid(s), "{:?} is invalid", s);
        }
        let unclosed = "[".repeat(70) + &"]".repeat(69);
        assert!(!valid(&unclosed));
        let mismatched = "[".repeat(70) + "}" + &"]".repeat(69);
        assert!(!valid(&mismatched));
    }

    #[test]
    fn unescapes_like_go() {
        let cases = [
            (r#""plain""#, "plain"),
            (r#""a\"b\\c\/d\b\f\n\r\t""#, "a\"b\\c/d\u{8}\u{c}\n\r\t"),
            (r#""\u00e9\u65e5\ud83d\ude00""#, "é日😀"),
            (
                r#""a\ud800b\udc00c\ud800\u0041\ude00\ud83d\ud83d\ude00""#,
                "a\u{fffd}b\u{fffd}c\u{fffd}A\u{fffd}\u{fffd}😀",
            ),
            ("\"caf\u{e9} \\n 日本\"", "café \n 日本"),
        ];
        for (raw, want) in cases {
            assert_eq!(decode_string(raw).as_deref(), Some(want), "{}", raw);
        }
        assert!(matches!(decode_string(r#""plain""#), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn writes_strings() {
        let mut out = Vec::new();
        write_string(&mut out, "a\"b\\c\n\r\t\u{1}\u{1f}\u{7f} é\u{2028}\u{2029}😀");
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#""a\"b\\c\n\r\t\u0001\u001f"#.to_owned() + "\u{7f} é\\u2028\\u2029😀\""
        );
        let back = String::from_utf8(out).unwrap();
        assert_eq!(decode_string(&back).unwrap(), "a\"b\\c\n\r\t\u{1}\u{1f}\u{7f} é\u{2028}\u{2029}😀");
    }

    #[test]
    fn scans_words_and_tails_alike() {
        // Every split of a string between the 8-byte loop and the tail.
        for n in 0..20 {
            let body = "x".repeat(n) + "é\\\"";
            let raw = format!("\"{}\"", body);
            assert_eq!(decode_string(&raw).unwrap(), "x".repeat(n) + "é\"");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(decode_i64("3600"), Some(3600));
        assert_eq!(decode_i64("-0"), Some(0));
        assert_eq!(decode_i64("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(decode_i64("9223372036854775807"), Some(i64::MAX));
        for s in ["9223372036854775808", "1.0", "1e3", "+1", "01", "", "-", "\"1\""] {
            assert_eq!(decode_i64(s), None, "{}", s);
        }
    }
}
