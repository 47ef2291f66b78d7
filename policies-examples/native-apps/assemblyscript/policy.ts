// native-apps: a Registrar policy module that holds native clients
// (application_type "native") to RFC 8252, OAuth 2.0 for Native Apps:
// public clients, redirect URIs that are private-use schemes in
// reverse-domain form, loopback IP addresses or claimed https URLs, and no
// implicit flow. See ../README.md.

import { Code, Obj, PolicyInput, PolicyOutput, failed, reject, servePolicy } from "@registrar-dev/registrar-sdk/assembly";

export * from "@registrar-dev/registrar-sdk/assembly/exports";

export function registrar_policy(ptr: u32, len: u32): u64 {
  return servePolicy(check, ptr, len);
}

/** The module's configuration (policy_config.native-apps). */
class Config {
  /** Allowed private-use schemes: each one and those below it
   * (com.example allows com.example.app); empty: any in reverse-domain form. */
  schemes: string[] = [];
  /** Accept http://localhost (RFC 8252 §8.3 says NOT RECOMMENDED). */
  allowLocalhost: bool = false;
  /** Accept claimed https redirect URIs (§7.2). */
  allowClaimedHTTPS: bool = true;
  /** Accept native clients that authenticate (not RFC 8252's advice). */
  allowConfidential: bool = false;
}

function parseConfig(input: PolicyInput): Config {
  const c = new Config();
  const obj = input.configObject(); // its type errors fail the call
  if (obj == null) return c;
  const schemes = obj.stringArray("schemes");
  if (schemes != null) c.schemes = schemes;
  if (obj.has("allow_localhost")) c.allowLocalhost = obj.bool("allow_localhost");
  if (obj.has("allow_claimed_https")) c.allowClaimedHTTPS = obj.bool("allow_claimed_https");
  if (obj.has("allow_confidential")) c.allowConfidential = obj.bool("allow_confidential");
  return c;
}

function check(input: PolicyInput): PolicyOutput | null {
  const cfg = parseConfig(input);
  const md = input.metadata;
  const appType = md.string("application_type");
  if (failed() || appType == null || appType != "native") return null; // only native clients

  // Public clients (§8.4, §8.5): they cannot keep a secret.
  const method = md.string("token_endpoint_auth_method");
  if (failed()) return null;
  if (method == null) {
    md.setString("token_endpoint_auth_method", "none");
  } else if (method != "none" && !cfg.allowConfidential) {
    reject(Code.InvalidClientMetadata, "native apps are public clients: token_endpoint_auth_method must be none (RFC 8252 §8.4)");
    return null;
  }

  // No implicit flow (§8.2).
  const grants = md.stringArray("grant_types");
  const types = md.stringArray("response_types");
  if (failed()) return null;
  if ((grants != null && grants.includes("implicit")) || (types != null && (types.includes("token") || types.includes("id_token token")))) {
    reject(Code.InvalidClientMetadata, "native apps must not use the implicit flow (RFC 8252 §8.2)");
    return null;
  }

  const uris = md.stringArray("redirect_uris");
  if (failed() || uris == null) return null;
  for (let i = 0; i < uris.length; i++) {
    const why = judge(uris[i], cfg);
    if (why.length > 0) {
      reject(Code.InvalidRedirectURI, why);
      return null;
    }
  }
  return new PolicyOutput(md);
}

/** judge returns why a native app's redirect URI is not acceptable, or "". */
function judge(uri: string, cfg: Config): string {
  const colon = uri.indexOf(":");
  const scheme = colon > 0 ? uri.substring(0, colon) : "";
  const rest = uri.substring(colon + 1);
  if (scheme == "https") {
    return cfg.allowClaimedHTTPS ? "" : quote(uri) + ": claimed https redirect URIs are not allowed here; use a private-use scheme or a loopback URI";
  }
  if (scheme == "http") {
    if (!rest.startsWith("//")) return quote(uri) + " is not a loopback redirect URI";
    let authority = rest.substring(2);
    const end = firstOf(authority, "/?#");
    if (end >= 0) authority = authority.substring(0, end);
    const host = hostOf(authority);
    if (host == "127.0.0.1" || host == "[::1]") return "";
    if (host == "localhost") {
      return cfg.allowLocalhost ? "" : quote(uri) + ": use http://127.0.0.1 or http://[::1], not localhost (RFC 8252 §8.3)";
    }
    return quote(uri) + ": http is only for loopback redirect URIs (RFC 8252 §7.3)";
  }
  // A private-use scheme (§7.1).
  if (colon <= 0) return quote(uri) + " is not an absolute URI";
  if (!reverseDomain(scheme)) {
    return quote(uri) + ': the private-use scheme "' + scheme + '" must be in reverse-domain form, such as com.example.app (RFC 8252 §7.1)';
  }
  if (rest.startsWith("//")) return quote(uri) + ": a private-use scheme's URI has a path, not an authority (com.example.app:/callback)";
  if (cfg.schemes.length > 0) {
    let mine = false;
    for (let i = 0; i < cfg.schemes.length; i++) {
      const s = cfg.schemes[i];
      if (scheme == s || scheme.startsWith(s + ".")) mine = true;
    }
    if (!mine) return quote(uri) + ': the private-use scheme "' + scheme + '" is not one of this tenant\'s';
  }
  return "";
}

/** reverseDomain reports whether a scheme is a domain name written backwards:
 * two or more labels of lower-case letters, digits and '-', separated by dots. */
function reverseDomain(s: string): bool {
  const labels = s.split(".");
  if (labels.length < 2) return false;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l.length == 0 || l.length > 63 || l.startsWith("-") || l.endsWith("-")) return false;
    for (let k = 0; k < l.length; k++) {
      const c = l.charCodeAt(k);
      if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d)) return false;
    }
  }
  const first = labels[0].charCodeAt(0);
  return first >= 0x61 && first <= 0x7a;
}

/** hostOf returns the host of an authority: without user information (none
 * is expected) and port, brackets kept. */
function hostOf(authority: string): string {
  if (authority.startsWith("[")) {
    const end = authority.indexOf("]");
    return end < 0 ? authority : authority.substring(0, end + 1);
  }
  const colon = authority.indexOf(":");
  return colon < 0 ? authority : authority.substring(0, colon);
}

function firstOf(s: string, chars: string): i32 {
  for (let i = 0; i < s.length; i++) if (chars.includes(s.charAt(i))) return i;
  return -1;
}

function quote(s: string): string {
  return '"' + (s.length > 200 ? s.substring(0, 200) + "..." : s) + '"';
}
