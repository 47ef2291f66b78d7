// trusted-hosts: a Registrar policy module that accepts redirect URIs,
// post-logout redirect URIs and client URIs only on the hosts its
// configuration trusts, and gives clients without a name a default one.
// See ../README.md; every language's trusted-hosts passes ../cases.json.

import { Code, Obj, PolicyInput, PolicyOutput, fail, failed, reject, servePolicy } from "@registrar-dev/registrar-sdk/assembly";
import { Pattern, parsePattern, quote, uriHost, why } from "./hosts";

export * from "@registrar-dev/registrar-sdk/assembly/exports";

export function registrar_policy(ptr: u32, len: u32): u64 {
  return servePolicy(check, ptr, len);
}

/** The module's configuration (the tenant's policy_config.trusted-hosts). */
class Config {
  hosts: Pattern[] = [];
  /** The client_name of clients that send none; "" for none. */
  defaultName: string = "";
  /** Accept redirect URIs without a host (RFC 8252 §7.1), leaving them to
   * Registrar's own checks. */
  privateUse: bool = false;

  /** Why a URI is not acceptable, or "". */
  judge(uri: string, redirect: bool): string {
    const host = uriHost(uri);
    if (host == null) return why;
    if (host.length == 0) return redirect && this.privateUse ? "" : "has no host";
    for (let i = 0; i < this.hosts.length; i++) if (this.hosts[i].matches(host)) return "";
    return "is not on a trusted host";
  }

  /** Judges every URI of an array member; a member of the wrong type is
   * rejected by the accessor. */
  checkURIs(md: Obj, name: string, code: Code, redirect: bool): void {
    const uris = md.stringArray(name);
    if (uris == null) return;
    for (let i = 0; i < uris.length; i++) {
      const msg = this.judge(uris[i], redirect);
      if (msg.length > 0) {
        reject(code, name + ": " + quote(uris[i]) + " " + msg);
        return;
      }
    }
  }
}

/** Reads the configuration. A bad one is the operator's mistake, not the
 * client's: it fails the call (server_error) rather than rejecting, which
 * the accessors of configObject() do for members of the wrong type. */
function parseConfig(input: PolicyInput): Config | null {
  const obj = input.configObject();
  if (obj == null) return failed() ? null : configError("no configuration: set policy_config.trusted-hosts.hosts for the tenant");
  const c = new Config();
  const hosts = obj.stringArray("hosts");
  if (failed()) return null;
  if (hosts == null || hosts.length == 0) return configError("configuration: hosts must be a non-empty array of host names");
  for (let i = 0; i < hosts.length; i++) {
    const p = parsePattern(hosts[i]);
    if (p == null) return configError("configuration: hosts: " + why);
    c.hosts.push(p);
  }
  const name = obj.string("default_client_name");
  c.privateUse = obj.bool("allow_private_use_schemes");
  if (failed()) return null;
  if (name != null) c.defaultName = name;
  return c;
}

function configError(msg: string): Config | null {
  fail(msg);
  return null;
}

// The last configuration parsed, with its JSON: an instance usually serves
// one tenant, so this saves parsing it on every call. (An instance may be
// replaced at any time; this is only a cache.)
let cachedRaw: string | null = null;
let cached: Config | null = null;

function check(input: PolicyInput): PolicyOutput | null {
  let cfg = cached;
  if (cfg == null || cachedRaw != input.config) {
    cfg = parseConfig(input);
    if (cfg == null) return null;
    cachedRaw = input.config;
    cached = cfg;
  }
  const md = input.metadata;
  cfg.checkURIs(md, "redirect_uris", Code.InvalidRedirectURI, true);
  if (failed()) return null;
  cfg.checkURIs(md, "post_logout_redirect_uris", Code.InvalidClientMetadata, false);
  if (failed()) return null;
  // client_uri and its language-tagged forms (client_uri#fr, RFC 7591 §2.2).
  for (let i = 0; i < md.length; i++) {
    const name = md.nameAt(i);
    if (name != "client_uri" && !name.startsWith("client_uri#")) continue;
    const uri = md.string(name);
    if (failed()) return null;
    if (uri == null || uri.length == 0) continue;
    const msg = cfg.judge(uri, false);
    if (msg.length > 0) {
      reject(Code.InvalidClientMetadata, name + ": " + quote(uri) + " " + msg);
      return null;
    }
  }
  if (cfg.defaultName.length > 0 && !md.has("client_name")) md.setString("client_name", cfg.defaultName);
  return new PolicyOutput(md);
}
