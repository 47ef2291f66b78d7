// statement-roles: a Registrar policy. A new client is admitted only when
// its verified software statement (RFC 7591 §2.3) vouches for it with a
// role or an organisation the tenant approves: a software_roles claim
// holding one of the configured roles, or an org_id claim among the
// configured organisations. Anything else is refused with
// unapproved_software_statement. See ../README.md.

import {
  Code, Obj, Phase, PolicyInput, PolicyOutput, fail, failed, reject, servePolicy,
} from "@registrar-dev/registrar-sdk/assembly";

export * from "@registrar-dev/registrar-sdk/assembly/exports";

export function registrar_policy(ptr: u32, len: u32): u64 {
  return servePolicy(check, ptr, len);
}

/** A configured list: [] if absent; null (the call failed) if it is not
 * an array of strings. */
function list(cfg: Obj, name: string): string[] | null {
  const v = cfg.stringArray(name); // a type error fails the call: cfg is the configuration
  if (failed()) return null;
  return v != null ? v : [];
}

/** Whether a claim is absent, null, or of the type; checked on the raw
 * value, because the typed accessors answer a type error with
 * invalid_client_metadata, and the first answer of a call is its answer. */
function claimIs(claims: Obj, name: string, stringArray: bool): bool {
  if (!claims.has(name)) return true;
  const raw = claims.get(name)!; // valid JSON: the SDK has parsed it
  if (!stringArray) return raw.charCodeAt(0) == 0x22;
  if (raw.charCodeAt(0) != 0x5b) return false;
  // Outside strings, an array of strings has only commas and white space
  // between its brackets.
  let inString = false;
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c == 0x5c) i++; // an escape: skip the escaped character
      else if (c == 0x22) inString = false;
    } else if (c == 0x22) {
      inString = true;
    } else if (c != 0x2c && c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) {
      return false;
    }
  }
  return true;
}

function check(input: PolicyInput): PolicyOutput | null {
  const cfg = input.configObject();
  if (cfg == null) {
    if (!failed()) fail("statement-roles is not configured: set policy_config.statement-roles");
    return null;
  }
  const roles = list(cfg, "roles");
  const orgIDs = list(cfg, "org_ids");
  const issuers = list(cfg, "issuers");
  if (roles == null || orgIDs == null || issuers == null) return null;
  if (roles.length == 0 && orgIDs.length == 0) {
    fail("statement-roles: set roles or org_ids (or both): with neither, no client is admitted");
    return null;
  }
  // An update carries no verified statement (it must send the client's
  // unchanged): the client was admitted when it registered.
  if (input.phase == Phase.Update) return null;

  const st = input.softwareStatement;
  if (st == null || !st.verified) {
    reject(Code.UnapprovedSoftwareStatement, "a verified software statement is required");
    return null;
  }
  if (issuers.length > 0 && !issuers.includes(st.issuer)) {
    reject(Code.UnapprovedSoftwareStatement, "the software statement's issuer is not accepted here: " + st.issuer);
    return null;
  }
  if (!claimIs(st.claims, "software_roles", true)) {
    reject(Code.UnapprovedSoftwareStatement, "the software_roles claim must be an array of strings");
    return null;
  }
  if (!claimIs(st.claims, "org_id", false)) {
    reject(Code.UnapprovedSoftwareStatement, "the org_id claim must be a string");
    return null;
  }
  const have = st.claims.stringArray("software_roles");
  if (have != null) {
    for (let i = 0; i < have.length; i++) {
      if (roles.includes(have[i])) return null;
    }
  }
  const org = st.claims.string("org_id");
  if (org != null && org.length > 0 && orgIDs.includes(org)) return null;
  reject(Code.UnapprovedSoftwareStatement, "the software statement has no approved software_roles and no approved org_id");
  return null;
}
