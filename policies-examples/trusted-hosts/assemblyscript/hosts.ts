// Hosts: reading a URI's host strictly, the canonical form hosts are
// compared in, and trusted-host patterns, by the rules of the example's
// README, which every language's trusted-hosts follows. The IP address rules
// are those of Go's net/netip. Lengths are counted in bytes of UTF-8.

/** Why the last function that returned null failed. */
export let why = "";

function failWith(msg: string): string | null {
  why = msg;
  return null;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function isLower(c: i32): bool {
  return c >= 0x61 && c <= 0x7a;
}

/** A trusted host: an exact host, or "*.example.org" for every host below
 * example.org (not example.org itself). host is canonical. */
export class Pattern {
  constructor(
    public host: string,
    public wildcard: bool,
  ) {}

  matches(host: string): bool {
    if (!this.wildcard) return host == this.host;
    const n = this.host.length;
    return host.length > n + 1 && host.endsWith(this.host) && host.charCodeAt(host.length - n - 1) == 0x2e;
  }
}

/** Reads a configured host; null (and why) if it is not one. */
export function parsePattern(s: string): Pattern | null {
  const wildcard = s.startsWith("*.");
  let rest = wildcard ? s.substring(2) : s;
  if (rest.includes("*")) return patternError(s, "a wildcard must be a whole first label, as in *.example.org");
  if (rest.endsWith("]")) rest = rest.substring(0, rest.length - 1);
  if (rest.startsWith("[")) rest = rest.substring(1);
  const host = canonicalHost(rest);
  if (host == null) return patternError(s, why);
  if (wildcard) {
    if (parseAddr(host) != null) return patternError(s, "a wildcard needs a DNS name, not an IP address");
    if (!host.includes(".")) return patternError(s, "a wildcard needs at least two labels after *.");
  }
  return new Pattern(host, wildcard);
}

function patternError(s: string, msg: string): Pattern | null {
  why = quote(s) + ": " + msg;
  return null;
}

// ---- IP addresses ----

class Addr {
  b: StaticArray<u8> = new StaticArray<u8>(16);
  v6: bool = false;
  zone: bool = false;
}

/** Reads dotted decimal without leading zeros into b[at..at+3]. */
function parseIPv4(s: string, b: StaticArray<u8>, at: i32): bool {
  let val = 0;
  let pos = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (digits == 1 && val == 0) return false; // a leading zero
      val = val * 10 + (c - 0x30);
      digits++;
      if (val > 255) return false;
    } else if (c == 0x2e) {
      if (i == 0 || i == s.length - 1 || s.charCodeAt(i - 1) == 0x2e || pos == 3) return false;
      b[at + pos++] = <u8>val;
      val = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (pos < 3) return false;
  b[at + 3] = <u8>val;
  return true;
}

function parseIPv6(input: string): Addr | null {
  const a = new Addr();
  a.v6 = true;
  let s = input;
  const pct = input.indexOf("%");
  if (pct >= 0) {
    if (pct + 1 == input.length) return null; // an empty zone
    s = input.substring(0, pct);
    a.zone = true;
  }
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.substring(2);
    if (s.length == 0) return a;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const c = s.charCodeAt(off);
      let d = 0;
      if (isDigit(c)) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else break;
      acc = (acc << 4) | d;
      if (off > 3 || acc > 0xffff) return null;
    }
    if (off == 0) return null;
    if (off < s.length && s.charCodeAt(off) == 0x2e) {
      if ((ellipsis < 0 && i != 12) || i + 4 > 16) return null;
      if (!parseIPv4(s, a.b, i)) return null;
      s = "";
      i += 4;
      break;
    }
    a.b[i] = <u8>(acc >> 8);
    a.b[i + 1] = <u8>acc;
    i += 2;
    s = s.substring(off);
    if (s.length == 0) break;
    if (s.charCodeAt(0) != 0x3a || s.length == 1) return null;
    s = s.substring(1);
    if (s.charCodeAt(0) == 0x3a) {
      if (ellipsis >= 0) return null;
      ellipsis = i;
      s = s.substring(1);
      if (s.length == 0) break;
    }
  }
  if (s.length != 0) return null;
  if (i < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) a.b[j + n] = a.b[j];
    for (let j = ellipsis; j < ellipsis + n; j++) a.b[j] = 0;
  } else if (ellipsis >= 0) {
    return null; // the :: must stand for at least one group
  }
  return a;
}

/** Reads an IP address as Go's netip.ParseAddr does. */
function parseAddr(s: string): Addr | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x2e) {
      const a = new Addr();
      return parseIPv4(s, a.b, 12) ? a : null;
    }
    if (c == 0x3a) return parseIPv6(s);
    if (c == 0x25) return null;
  }
  return null;
}

/** Prints an address as netip does, without its zone. */
function formatAddr(a: Addr): string {
  const b = a.b;
  const v4 = b[12].toString() + "." + b[13].toString() + "." + b[14].toString() + "." + b[15].toString();
  if (!a.v6) return v4;
  let mapped = b[10] == 0xff && b[11] == 0xff;
  for (let k = 0; k < 10; k++) mapped = mapped && b[k] == 0;
  if (mapped) return "::ffff:" + v4;
  const g = new StaticArray<i32>(8);
  for (let k = 0; k < 8; k++) g[k] = (<i32>b[2 * k] << 8) | <i32>b[2 * k + 1];
  // The first longest run of two or more zero groups becomes "::".
  let zs = 8;
  let ze = 8;
  for (let k = 0; k < 8; k++) {
    let j = k;
    while (j < 8 && g[j] == 0) j++;
    if (j - k >= 2 && j - k > ze - zs) {
      zs = k;
      ze = j;
    }
  }
  let out = "";
  for (let k = 0; k < 8; k++) {
    if (k == zs) {
      out += "::";
      k = ze;
      if (k >= 8) break;
    } else if (k > 0) {
      out += ":";
    }
    out += g[k].toString(16);
  }
  return out;
}

// ---- names ----

/** Reports whether h is already a canonical DNS name but for a trailing
 * dot: lower-case ASCII labels of 1 to 63 letters, digits, '-' and '_',
 * with a letter in the last one (so that it is no IP address). */
function plainName(h: string): bool {
  let n = h.length;
  if (n > 0 && h.charCodeAt(n - 1) == 0x2e) n--;
  if (n == 0 || n > 253) return false;
  let label = 0;
  let letter = false;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    if (isLower(c)) {
      letter = true;
    } else if (c == 0x2e) {
      if (label == 0) return false;
      label = -1;
      letter = false;
    } else if (!isDigit(c) && c != 0x2d && c != 0x5f) {
      return false;
    }
    if (++label > 63) return false;
  }
  return label > 0 && letter;
}

/** Encodes a label with RFC 3492's bootstring parameters. */
export function punycode(label: string): string {
  const BASE = 36;
  const TMIN = 1;
  const TMAX = 26;
  const runes = new Array<i32>();
  for (let i = 0; i < label.length; i++) {
    const c = label.codePointAt(i);
    if (c > 0xffff) i++;
    runes.push(c);
  }
  let out = "";
  for (let k = 0; k < runes.length; k++) if (runes[k] < 0x80) out += String.fromCharCode(runes[k]);
  const basic = out.length;
  let handled = basic;
  if (basic > 0) out += "-";
  let n = 128;
  let delta = 0;
  let bias = 72;
  while (handled < runes.length) {
    let m = i32.MAX_VALUE;
    for (let k = 0; k < runes.length; k++) if (runes[k] >= n && runes[k] < m) m = runes[k];
    delta += (m - n) * (handled + 1);
    n = m;
    for (let k = 0; k < runes.length; k++) {
      const r = runes[k];
      if (r < n) delta++;
      if (r != n) continue;
      let q = delta;
      for (let kk = BASE; ; kk += BASE) {
        const t = kk <= bias ? TMIN : kk >= bias + TMAX ? TMAX : kk - bias;
        if (q < t) break;
        out += digit(t + ((q - t) % (BASE - t)));
        q = (q - t) / (BASE - t);
      }
      out += digit(q);
      // adapt
      let d = handled == basic ? delta / 700 : delta / 2;
      d += d / (handled + 1);
      let kk = 0;
      while (d > ((BASE - TMIN) * TMAX) / 2) {
        d /= BASE - TMIN;
        kk += BASE;
      }
      bias = kk + ((BASE - TMIN + 1) * d) / (d + 38);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return out;
}

function digit(d: i32): string {
  return String.fromCharCode(d < 26 ? 0x61 + d : 0x30 + d - 26);
}

function isASCII(s: string): bool {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function asciiLower(s: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      out += s.substring(from, i) + String.fromCharCode(c + 0x20);
      from = i + 1;
    }
  }
  return from == 0 ? s : out + s.substring(from);
}

/** The form hosts are compared in (see the README); null and why if h is
 * not a host. */
export function canonicalHost(h: string): string | null {
  if (plainName(h)) return h.endsWith(".") ? h.substring(0, h.length - 1) : h;
  const a = parseAddr(h);
  if (a != null) {
    if (a.zone) return failWith("an IPv6 zone is not a host");
    return formatAddr(a);
  }
  if (h.endsWith(".")) h = h.substring(0, h.length - 1);
  const n = String.UTF8.byteLength(h);
  if (n == 0 || n > 253) return failWith("a host name has 1 to 253 characters");
  const labels = asciiLower(h).split(".");
  for (let i = 0; i < labels.length; i++) {
    let l = labels[i];
    if (!isASCII(l)) l = "xn--" + punycode(l);
    if (l.length == 0 || l.length > 63) return failWith("a host name's labels have 1 to 63 characters");
    for (let k = 0; k < l.length; k++) {
      const c = l.charCodeAt(k);
      if (!isLower(c) && !isDigit(c) && c != 0x2d && c != 0x5f) return failWith("a host name has only letters, digits, '-' and '_'");
    }
    labels[i] = l;
  }
  return labels.join(".");
}

// ---- URIs ----

function validScheme(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isLower(c | 0x20) || (i > 0 && (isDigit(c) || c == 0x2b || c == 0x2d || c == 0x2e)))) return false;
  }
  return s.length > 0;
}

function validPort(s: string): bool {
  if (s.length > 5) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return false;
    n = n * 10 + (c - 0x30);
  }
  return n <= 65535;
}

/** The canonical host of an absolute URI ("" for a URI without an
 * authority); null and why if the URI is not acceptable. */
export function uriHost(uri: string): string | null {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c == 0x7f || c == 0x5c) return failWith("must not contain white space, control characters or backslashes");
  }
  const colon = uri.indexOf(":");
  if (colon <= 0 || !validScheme(uri.substring(0, colon))) return failWith("is not an absolute URI");
  const scheme = uri.substring(0, colon).toLowerCase();
  const web = scheme == "https" || scheme == "http";
  const rest = uri.substring(colon + 1);
  if (!rest.startsWith("//")) return web ? failWith("has no host") : "";
  let authority = rest.substring(2);
  for (let i = 0; i < authority.length; i++) {
    const c = authority.charCodeAt(i);
    if (c == 0x2f || c == 0x3f || c == 0x23) {
      authority = authority.substring(0, i);
      break;
    }
  }
  if (authority.includes("@")) return failWith("must not contain user information");
  let host: string;
  let port: string;
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    if (end < 0) return failWith("has an invalid host");
    host = authority.substring(1, end);
    port = authority.substring(end + 1);
    if (port.length > 0 && !port.startsWith(":")) return failWith("has an invalid host");
    const a = parseAddr(host);
    if (a == null || !a.v6 || a.zone) return failWith("has an invalid IPv6 address");
  } else {
    const i = authority.lastIndexOf(":");
    host = i >= 0 ? authority.substring(0, i) : authority;
    port = i >= 0 ? authority.substring(i) : "";
    if (host.includes(":")) return failWith("has an invalid host"); // an IPv6 address must be in brackets
  }
  if (!validPort(port.startsWith(":") ? port.substring(1) : port)) return failWith("has an invalid port");
  if (host.length == 0) return web ? failWith("has no host") : "";
  const canonical = canonicalHost(host);
  if (canonical == null) return failWith("has an invalid host: " + why);
  return canonical;
}

/** Quotes a URI for an error description: cut to at most 200 bytes of
 * UTF-8 at a character boundary (with "..." if cut), in double quotes,
 * with '"' and '\' escaped by a backslash. */
export function quote(s: string): string {
  let bytes = 0;
  let end = s.length;
  let cut = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c < 0xdc00 && i + 1 < s.length;
    const size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (bytes + size > 200 && String.UTF8.byteLength(s) > 200) {
      end = i;
      cut = "...";
      break;
    }
    bytes += size;
    if (pair) i++;
  }
  return '"' + s.substring(0, end).replaceAll("\\", "\\\\").replaceAll('"', '\\"') + cut + '"';
}
