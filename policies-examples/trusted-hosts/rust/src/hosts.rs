//! Hosts: reading a URI's host strictly, the canonical form hosts are
//! compared in, and trusted-host patterns. The rules are those of the
//! example's README, which every language's trusted-hosts follows.

/// A trusted host: an exact host, or `*.example.org` for every host below
/// example.org (not example.org itself). `host` is canonical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    host: String,
    wildcard: bool,
}

impl Pattern {
    /// Reads a configured host: a DNS name (Unicode or punycode, any case,
    /// with or without a trailing dot), an IP address, or `*.` and a DNS
    /// name of at least two labels.
    pub fn parse(s: &str) -> Result<Pattern, String> {
        let (rest, wildcard) = match s.strip_prefix("*.") {
            Some(rest) => (rest, true),
            None => (s, false),
        };
        if rest.contains('*') {
            return Err(format!("{}: a wildcard must be a whole first label, as in *.example.org", quote(s)));
        }
        let bare = rest.strip_suffix(']').unwrap_or(rest);
        let bare = bare.strip_prefix('[').unwrap_or(bare);
        let host = canonical_host(bare).map_err(|e| format!("{}: {}", quote(s), e))?;
        if wildcard {
            if parse_addr(&host).is_some() {
                return Err(format!("{}: a wildcard needs a DNS name, not an IP address", quote(s)));
            }
            if !host.contains('.') {
                return Err(format!("{}: a wildcard needs at least two labels after *.", quote(s)));
            }
        }
        Ok(Pattern { host, wildcard })
    }

    /// Reports whether a canonical host is trusted by the pattern.
    pub fn matches(&self, host: &str) -> bool {
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }
}

/// The canonical host of an absolute URI; "" for a URI without an
/// authority, such as a private-use scheme's. The authority is read
/// strictly: white space, control characters, backslashes, user
/// information and percent-escapes in the host are refused, so that it is
/// exactly what lies between "//" and the first '/', '?' or '#'.
pub fn uri_host(uri: &str) -> Result<String, String> {
    if uri.bytes().any(|c| c <= b' ' || c == 0x7f || c == b'\\') {
        return Err("must not contain white space, control characters or backslashes".into());
    }
    let colon = match uri.find(':') {
        Some(i) if i > 0 && valid_scheme(&uri[..i]) => i,
        _ => return Err("is not an absolute URI".into()),
    };
    let (scheme, rest) = (&uri[..colon], &uri[colon + 1..]);
    let web = scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http");
    let authority = match rest.strip_prefix("//") {
        Some(a) => a,
        None if web => return Err("has no host".into()),
        None => return Ok(String::new()),
    };
    let authority = match authority.find(|c| c == '/' || c == '?' || c == '#') {
        Some(i) => &authority[..i],
        None => authority,
    };
    if authority.contains('@') {
        return Err("must not contain user information".into());
    }
    let (host, port);
    if let Some(bracketed) = authority.strip_prefix('[') {
        let end = bracketed.find(']').ok_or("has an invalid host")?;
        host = &bracketed[..end];
        port = &bracketed[end + 1..];
        if !port.is_empty() && !port.starts_with(':') {
            return Err("has an invalid host".into());
        }
        match parse_addr(host) {
            Some(ip) if ip.v6 && !ip.zone => {}
            _ => return Err("has an invalid IPv6 address".into()),
        }
    } else {
        match authority.rfind(':') {
            Some(i) => {
                host = &authority[..i];
                port = &authority[i..];
            }
            None => {
                host = authority;
                port = "";
            }
        }
        if host.contains(':') {
            return Err("has an invalid host".into()); // an IPv6 address must be in brackets
        }
    }
    if !valid_port(port.strip_prefix(':').unwrap_or(port)) {
        return Err("has an invalid port".into());
    }
    if host.is_empty() {
        return if web { Err("has no host".into()) } else { Ok(String::new()) };
    }
    canonical_host(host).map_err(|e| format!("has an invalid host: {}", e))
}

/// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1).
fn valid_scheme(s: &str) -> bool {
    s.bytes()
        .enumerate()
        .all(|(i, c)| c.is_ascii_alphabetic() || (i > 0 && (c.is_ascii_digit() || b"+-.".contains(&c))))
}

/// Empty, or a port number.
fn valid_port(s: &str) -> bool {
    s.len() <= 5
        && s.bytes().all(|c| c.is_ascii_digit())
        && (s.is_empty() || s.parse::<u32>().map_or(false, |n| n <= 65535))
}

/// The form of a host that trusted hosts are compared in: an IP address
/// in RFC 5952 form (::ffff:a.b.c.d for an IPv4-mapped one); a DNS name
/// with its ASCII letters in lower case, without a trailing dot, each
/// non-ASCII label in punycode. No Unicode case folding: a name in another
/// Unicode form than the configured one does not match (it fails closed).
pub fn canonical_host(h: &str) -> Result<String, &'static str> {
    if plain_name(h) {
        return Ok(h.strip_suffix('.').unwrap_or(h).to_owned());
    }
    if let Some(ip) = parse_addr(h) {
        if ip.zone {
            return Err("an IPv6 zone is not a host");
        }
        return Ok(ip.to_string());
    }
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.is_empty() || h.len() > 253 {
        return Err("a host name has 1 to 253 characters");
    }
    let mut labels = Vec::new();
    for label in h.to_ascii_lowercase().split('.') {
        let l = if label.is_ascii() { label.to_owned() } else { format!("xn--{}", punycode(label)) };
        if l.is_empty() || l.len() > 63 {
            return Err("a host name's labels have 1 to 63 characters");
        }
        if !l.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'_') {
            return Err("a host name has only letters, digits, '-' and '_'");
        }
        labels.push(l);
    }
    Ok(labels.join("."))
}

/// Reports whether h is already a canonical DNS name but for a trailing
/// dot: lower-case ASCII labels of 1 to 63 letters, digits, '-' and '_',
/// with a letter in the last one (so that it is no IP address).
fn plain_name(h: &str) -> bool {
    let h = h.strip_suffix('.').unwrap_or(h).as_bytes();
    if h.is_empty() || h.len() > 253 {
        return false;
    }
    let (mut label, mut letter) = (0i32, false);
    for &c in h {
        match c {
            b'a'..=b'z' => letter = true,
            b'0'..=b'9' | b'-' | b'_' => {}
            b'.' => {
                if label == 0 {
                    return false;
                }
                label = -1;
                letter = false;
            }
            _ => return false,
        }
        label += 1;
        if label > 63 {
            return false;
        }
    }
    label > 0 && letter
}

/// An IP address: IPv4 in the last four bytes when !v6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr {
    bytes: [u8; 16],
    v6: bool,
    zone: bool,
}

/// Parses an IP address as Go's net/netip does: IPv4 in dotted decimal
/// without leading zeros; IPv6 with at most one "::", hex groups of 1 to 4
/// digits, an optional trailing dotted IPv4, and an optional "%zone".
pub fn parse_addr(s: &str) -> Option<Addr> {
    match s.bytes().find(|&c| c == b'.' || c == b':' || c == b'%') {
        Some(b'.') => {
            let mut a = Addr { bytes: [0; 16], v6: false, zone: false };
            parse_ipv4(s.as_bytes(), &mut a.bytes[12..])?;
            Some(a)
        }
        Some(b':') => parse_ipv6(s),
        _ => None,
    }
}

fn parse_ipv4(s: &[u8], out: &mut [u8]) -> Option<()> {
    let (mut val, mut pos, mut digits) = (0u32, 0usize, 0);
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                if digits == 1 && val == 0 {
                    return None; // a leading zero
                }
                val = val * 10 + (c - b'0') as u32;
                digits += 1;
                if val > 255 {
                    return None;
                }
            }
            b'.' => {
                if i == 0 || i == s.len() - 1 || s[i - 1] == b'.' || pos == 3 {
                    return None;
                }
                out[pos] = val as u8;
                pos += 1;
                val = 0;
                digits = 0;
            }
            _ => return None,
        }
    }
    if pos < 3 {
        return None;
    }
    out[3] = val as u8;
    Some(())
}

fn parse_ipv6(input: &str) -> Option<Addr> {
    let (mut s, zone) = match input.find('%') {
        Some(i) if i + 1 == input.len() => return None, // an empty zone
        Some(i) => (&input.as_bytes()[..i], true),
        None => (input.as_bytes(), false),
    };
    let mut ip = [0u8; 16];
    let mut ellipsis: Option<usize> = None;
    if s.starts_with(b"::") {
        ellipsis = Some(0);
        s = &s[2..];
        if s.is_empty() {
            return Some(Addr { bytes: ip, v6: true, zone });
        }
    }
    let mut i = 0;
    while i < 16 {
        let (mut off, mut acc) = (0, 0u32);
        while off < s.len() {
            let d = match s[off] {
                c @ b'0'..=b'9' => c - b'0',
                c @ b'a'..=b'f' => c - b'a' + 10,
                c @ b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            acc = acc << 4 | d as u32;
            if off > 3 || acc > 0xffff {
                return None;
            }
            off += 1;
        }
        if off == 0 {
            return None;
        }
        if off < s.len() && s[off] == b'.' {
            if (ellipsis.is_none() && i != 12) || i + 4 > 16 {
                return None;
            }
            parse_ipv4(s, &mut ip[i..i + 4])?;
            s = &[];
            i += 4;
            break;
        }
        ip[i] = (acc >> 8) as u8;
        ip[i + 1] = acc as u8;
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        if s[0] != b':' || s.len() == 1 {
            return None;
        }
        s = &s[1..];
        if s[0] == b':' {
            if ellipsis.is_some() {
                return None;
            }
            ellipsis = Some(i);
            s = &s[1..];
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return None;
    }
    if i < 16 {
        let e = ellipsis?;
        let n = 16 - i;
        for j in (e..i).rev() {
            ip[j + n] = ip[j];
        }
        for b in &mut ip[e..e + n] {
            *b = 0;
        }
    } else if ellipsis.is_some() {
        return None; // the :: must stand for at least one group
    }
    Some(Addr { bytes: ip, v6: true, zone })
}

impl std::fmt::Display for Addr {
    /// As Go's netip prints an address without its zone.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = &self.bytes;
        if !self.v6 {
            return write!(f, "{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
        }
        if b[..10].iter().all(|&x| x == 0) && b[10] == 0xff && b[11] == 0xff {
            return write!(f, "::ffff:{}.{}.{}.{}", b[12], b[13], b[14], b[15]);
        }
        let group = |i: usize| (b[2 * i] as u16) << 8 | b[2 * i + 1] as u16;
        // The first longest run of two or more zero groups becomes "::".
        let (mut zs, mut ze) = (8, 8);
        for i in 0..8 {
            let mut j = i;
            while j < 8 && group(j) == 0 {
                j += 1;
            }
            if j - i >= 2 && j - i > ze - zs {
                zs = i;
                ze = j;
            }
        }
        let mut i = 0;
        while i < 8 {
            if i == zs {
                f.write_str("::")?;
                i = ze;
                if i >= 8 {
                    break;
                }
            } else if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{:x}", group(i))?;
            i += 1;
        }
        Ok(())
    }
}

/// Encodes a label with RFC 3492's bootstring parameters.
pub fn punycode(label: &str) -> String {
    const BASE: u32 = 36;
    const TMIN: u32 = 1;
    const TMAX: u32 = 26;
    let digit = |d: u32| if d < 26 { (b'a' + d as u8) as char } else { (b'0' + (d - 26) as u8) as char };
    let adapt = |mut delta: u32, points: u32, first: bool| {
        delta /= if first { 700 } else { 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - TMIN) * TMAX) / 2 {
            delta /= BASE - TMIN;
            k += BASE;
        }
        k + (BASE - TMIN + 1) * delta / (delta + 38)
    };
    let runes: Vec<u32> = label.chars().map(|c| c as u32).collect();
    let mut out: String = label.chars().filter(|c| c.is_ascii()).collect();
    let basic = out.len() as u32;
    let mut handled = basic;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (128u32, 0u32, 72u32);
    while (handled as usize) < runes.len() {
        let m = runes.iter().copied().filter(|&r| r >= n).min().unwrap_or(n);
        delta += (m - n) * (handled + 1);
        n = m;
        for &r in &runes {
            if r < n {
                delta += 1;
            }
            if r != n {
                continue;
            }
            let mut q = delta;
            let mut k = BASE;
            loop {
                let t = if k <= bias {
                    TMIN
                } else if k >= bias + TMAX {
                    TMAX
                } else {
                    k - bias
                };
                if q < t {
                    break;
                }
                out.push(digit(t + (q - t) % (BASE - t)));
                q = (q - t) / (BASE - t);
                k += BASE;
            }
            out.push(digit(q));
            bias = adapt(delta, handled + 1, handled == basic);
            delta = 0;
            handled += 1;
        }
        delta += 1;
        n += 1;
    }
    out
}

/// Quotes a URI for an error description: cut to at most 200 bytes at a
/// character boundary (with "..." if cut), in double quotes, with '"' and
/// '\' escaped by a backslash.
pub fn quote(s: &str) -> String {
    let (s, cut) = if s.len() > 200 {
        let mut n = 200;
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        (&s[..n], "...")
    } else {
        (s, "")
    };
    let mut q = String::with_capacity(s.len() + 5);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push_str(cut);
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_samples() {
        // RFC 3492 §7.1 samples and well-known names.
        for (label, want) in [
            ("bücher", "bcher-kva"),
            ("münchen", "mnchen-3ya"),
            ("例え", "r8jz45g"),
            ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            ("3年b組金八先生", "3b-ww4c5e180e575a65lsy2b"),
        ] {
            assert_eq!(punycode(label), want, "{}", label);
        }
    }

    #[test]
    fn canonical_hosts() {
        for (h, want) in [
            ("Example.COM", "example.com"),
            ("example.com.", "example.com"),
            ("Bücher.EXAMPLE", "xn--bcher-kva.example"),
            ("BÜCHER.example", "xn--bcher-2pa.example"),
            ("xn--BCHER-kva.example.", "xn--bcher-kva.example"),
            ("127.0.0.1", "127.0.0.1"),
            ("::FFFF:1.2.3.4", "::ffff:1.2.3.4"),
            ("::ffff:102:304", "::ffff:1.2.3.4"),
            ("0:0:0::1", "::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("1:0:0:4:5:0:0:8", "1::4:5:0:0:8"),
            ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
            ("::", "::"),
            ("::1.2.3.4", "::102:304"),
            ("a.123", "a.123"),
            ("1.2.3.04", "1.2.3.04"), // not an IP address (a leading zero): a name, as in Go
        ] {
            assert_eq!(canonical_host(h).as_deref(), Ok(want), "{}", h);
        }
        for h in [
            "",
            ".",
            "a..b",
            "exa mple.com",
            "ex%61mple.com",
            "a/b",
            &("a".repeat(64) + ".com"),
            "fe80::1%eth0",
            "1::2::3",
            "1:2:3:4:5:6:7:8::",
            "::1%",
            "12345::",
        ] {
            assert!(canonical_host(h).is_err(), "{:?} = {:?}", h, canonical_host(h));
        }
    }

    #[test]
    fn patterns() {
        let cases: [(&str, &[&str], &[&str]); 4] = [
            ("example.com", &["example.com"], &["www.example.com", "example.com.evil.net", "evilexample.com"]),
            ("*.example.org", &["a.example.org", "a.b.example.org"], &["example.org", "aexample.org"]),
            ("*.bücher.example", &["shop.xn--bcher-kva.example"], &["xn--bcher-kva.example"]),
            ("[::1]", &["::1"], &["127.0.0.1"]),
        ];
        for (pattern, yes, no) in cases {
            let p = Pattern::parse(pattern).unwrap();
            assert!(yes.iter().all(|h| p.matches(h)), "{}", pattern);
            assert!(!no.iter().any(|h| p.matches(h)), "{}", pattern);
        }
        for bad in ["*", "*.com", "a.*.example.org", "*example.org", "*.127.0.0.1", "exa mple.org", ""] {
            assert!(Pattern::parse(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn uri_hosts() {
        for (uri, want) in [
            ("https://App.Example.com:8443/cb?x=1", "app.example.com"),
            ("https://example.com./cb", "example.com"),
            ("https://bücher.example/", "xn--bcher-kva.example"),
            ("http://[::1]:3000/cb", "::1"),
            ("com.example.app:/callback", ""),
            ("myapp:///path", ""),
            ("https://example.com:/cb", "example.com"),
            ("https://example.com#f", "example.com"),
        ] {
            assert_eq!(uri_host(uri).as_deref(), Ok(want), "{}", uri);
        }
        for uri in [
            "https://user@example.com/",
            "https://evil.net\\@example.com/",
            "https://example.com /",
            "https:///cb",
            "https:example.com",
            "/relative",
            "https://example.com:xx/",
            "http://[fe80::1%25eth0]/",
            "https://example.com:65536/",
            "https://[::1/",
            "https://[::1]x/",
            "1https://example.com/",
            "https://::1:80/",
            "https://[127.0.0.1]/",
            "https://:443/",
        ] {
            assert!(uri_host(uri).is_err(), "{}", uri);
        }
    }

    #[test]
    fn quotes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote(&("a".repeat(199) + "é")), format!("\"{}...\"", "a".repeat(199)));
        assert_eq!(quote(&"a".repeat(200)), format!("\"{}\"", "a".repeat(200)));
    }
}
