import { Decoder, Read, Slice, decodeBody } from "./json";
import { Obj } from "./object";
import { fail } from "./errors";

/** Which request a hook runs for. */
export enum Phase {
  /** A new registration (RFC 7591). */
  Register,
  /** An update through RFC 7592. */
  Update,
}

/** The token that authorised the request. */
export class Token {
  /** initial_access_token, static, registration_access_token or none. */
  kind: string = "";
  /** The SHA-256 of a stored token, else "". */
  id: string = "";
  /** The policies the token names. */
  policies: string[] = [];
  /** The client ID the token reserves, or the client being updated; "" if none. */
  clientID: string = "";
}

/** The members every hook's input has (sdk/ABI.md §2). */
export class Envelope {
  /** The ABI version of the input document: 1. */
  abi: i64 = 0;
  /** The hook being called, e.g. "policy". */
  hook: string = "";
  /** The tenant the request is for. */
  tenant: string = "";
  /** The host's time, seconds since the Unix epoch. */
  now: i64 = 0;
  /** The token that authorised the request. */
  token: Token = new Token();
  /** The client's IP address as Registrar saw it. */
  remoteIP: string = "";
  /** This module's configuration for the tenant (policy_config.<name>) as
   * raw JSON, or null. */
  config: string | null = null;

  /** The configuration as an object (a copy, which may be cached): null if
   * there is none, or if it is not a JSON object, which fails the call. A
   * member of the wrong type in it fails the call too (it is the
   * operator's mistake, not the client's). */
  configObject(): Obj | null {
    const raw = this.config;
    if (raw == null) return null;
    const o = Obj.parse(raw);
    if (o == null) fail("the configuration is not a JSON object");
    else o.config = true;
    return o;
  }
}

/** The input of the policy hook. */
export class PolicyInput extends Envelope {
  /** Registration or update. */
  phase: Phase = Phase.Register;
  /** The client metadata about to be validated (empty if none). It is not
   * yet validated: any member may have the wrong type. */
  metadata: Obj = new Obj();
  /** On update: the client being updated; else "". */
  clientID: string = "";
  /** On update: its stored metadata; else null. */
  current: Obj | null = null;
  /** The policy list of the request. */
  policies: string[] = [];
  /** The request's verified software statement, or null: on registration
   * only, when the tenant verifies statements and the request carried one. */
  softwareStatement: SoftwareStatement | null = null;
}

/** A software statement (RFC 7591 §2.3) as Registrar verified it: the
 * software_statement member of the policy input (sdk/ABI.md §2). Its
 * claims already override the same members of the metadata. */
export class SoftwareStatement {
  /** The statement's iss: one of the tenant's trusted issuers. */
  issuer: string = "";
  /** Every claim of the statement as signed (iss, iat, jti, software_id,
   * and any other such as software_roles or org_id). The typed accessors
   * read them; their type errors are rejections with
   * invalid_client_metadata, so a policy that wants another code checks
   * them itself. */
  claims: Obj = new Obj();
  /** That the host verified it: always true in what the host sends (an
   * unverified statement is not sent). A policy that admits clients by a
   * claim checks it all the same. */
  verified: bool = false;
}

/** What the policy hook returns to accept a request. */
export class PolicyOutput {
  /** If not null, replaces the policy list that the client's registration
   * access token carries; each must name a module the tenant has. */
  registrationPolicies: string[] | null = null;

  /** The metadata to continue with. It must not contain the members the
   * server assigns (client_id, client_secret, ...). */
  constructor(public metadata: Obj) {}
}

/** The input of the id_factory and secret_factory hooks. */
export class FactoryInput extends Envelope {
  /** The validated client metadata. */
  metadata: Obj = new Obj();
}

/** The input of the issue_ and rotate_registration_access_token hooks. */
export class DecisionInput extends Envelope {
  /** Registration or update. */
  phase: Phase = Phase.Register;
  /** The client's ID. */
  clientID: string = "";
  /** The validated client metadata. */
  metadata: Obj = new Obj();
}

/** The input of the issue_access_token hook: a token request at the
 * token endpoint, as the endpoint has judged it so far. */
export class AccessTokenInput extends Envelope {
  /** The client asking for a token. */
  clientID: string = "";
  /** The client's validated metadata. */
  metadata: Obj = new Obj();
  /** The grant of the request ("client_credentials"). */
  grantType: string = "";
  /** How the client authenticated (a token_endpoint_auth_method). */
  authMethod: string = "";
  /** The request's scope parameter, split; empty if it named none. */
  requestedScope: string[] = [];
  /** The scope the client registered. */
  allowedScope: string[] = [];
  /** Granted unless narrowed; the hook may return only values of it. */
  scope: string[] = [];
  /** The request's resource parameters (RFC 8707). */
  resources: string[] = [];
  /** The token's audience unless replaced. */
  audience: string[] = [];
  /** The token's lifetime in seconds unless shortened; the most the hook
   * may return. */
  lifetime: i64 = 0;
  /** The client's registration policies. */
  policies: string[] = [];
  /** Claims earlier modules set (empty if none): not to be set again. */
  claims: Obj = new Obj();
}

/** What the issue_access_token hook returns to allow the token; as
 * constructed it changes nothing. */
export class AccessTokenOutput {
  /** If not null: the token's scope, values of the input's only, each once. */
  scope: string[] | null = null;
  /** If not null: replaces the audience (1 to 16 non-empty strings). */
  audience: string[] | null = null;
  /** If positive: the token's lifetime in seconds, at most the input's. */
  lifetime: i64 = 0;
  /** Extra claims: at most 4,096 bytes as JSON, no reserved name. */
  claims: Obj = new Obj();
}

/** Why the input could not be read; the call fails with it. */
let why: string = "";

function str(d: Decoder): string | null {
  if (d.null()) return "";
  const r = d.readString();
  if (r == Read.OK) return d.str;
  if (r == Read.Other) why = "not a JSON string";
  return null;
}

function strs(d: Decoder): string[] | null {
  if (d.null()) return [];
  const r = d.readStrings();
  if (r == Read.OK) return d.strs;
  if (r == Read.Other) why = "not an array of strings";
  return null;
}

function int(d: Decoder): bool {
  if (!d.rawValue()) return false;
  const raw = new Slice(d.rawPtr, d.rawLen);
  // Integers of the envelope fit easily; parse the digits.
  let v: i64 = 0;
  let neg = false;
  for (let i = 0; i < raw.len; i++) {
    const c = <i32>load<u8>(raw.ptr + <usize>i);
    if (i == 0 && c == 0x2d) {
      neg = true;
      continue;
    }
    if (c < 0x30 || c > 0x39 || i > 19) {
      why = "not an integer";
      return false;
    }
    v = v * 10 + <i64>(c - 0x30);
  }
  intValue = neg ? -v : v;
  return true;
}
let intValue: i64 = 0;

function obj(d: Decoder): Obj | null {
  if (d.peek() != 0x7b) {
    if (d.skipValue()) why = "not a JSON object";
    return null;
  }
  return Obj.read(d);
}

function token(d: Decoder, t: Token): bool {
  if (d.null()) return true;
  if (d.begin() != Read.OK) {
    why = "not a JSON object";
    return false;
  }
  while (true) {
    const r = d.next();
    if (r == Read.Other) return true;
    if (r == Read.Error) return false;
    if (d.nameIs("kind")) {
      const s = str(d);
      if (s == null) return false;
      t.kind = s;
    } else if (d.nameIs("id")) {
      const s = str(d);
      if (s == null) return false;
      t.id = s;
    } else if (d.nameIs("policies")) {
      const s = strs(d);
      if (s == null) return false;
      t.policies = s;
    } else if (d.nameIs("client_id")) {
      const s = str(d);
      if (s == null) return false;
      t.clientID = s;
    } else if (!d.skipValue()) {
      return false;
    }
  }
  return false;
}

function request(d: Decoder, env: Envelope): bool {
  if (d.null()) return true;
  if (d.begin() != Read.OK) {
    why = "not a JSON object";
    return false;
  }
  while (true) {
    const r = d.next();
    if (r == Read.Other) return true;
    if (r == Read.Error) return false;
    if (d.nameIs("remote_ip")) {
      const s = str(d);
      if (s == null) return false;
      env.remoteIP = s;
    } else if (!d.skipValue()) {
      return false;
    }
  }
  return false;
}

/** Reads the policy input's software_statement into statement; null is
 * no statement. Members it does not know are skipped. */
function softwareStatement(d: Decoder): bool {
  if (d.null()) return true;
  if (d.begin() != Read.OK) {
    why = "not a JSON object";
    return false;
  }
  const st = new SoftwareStatement();
  while (true) {
    const r = d.next();
    if (r == Read.Other) break;
    if (r == Read.Error) return false;
    if (d.nameIs("issuer")) {
      const s = str(d);
      if (s == null) return false;
      st.issuer = s;
    } else if (d.nameIs("claims")) {
      if (!d.null()) {
        const o = obj(d);
        if (o == null) return false;
        st.claims = o;
      }
    } else if (d.nameIs("verified")) {
      if (!d.rawValue()) return false;
      const raw = String.UTF8.decodeUnsafe(d.rawPtr, d.rawLen);
      if (raw == "true") st.verified = true;
      else if (raw != "false" && raw != "null") {
        why = "verified is not true or false";
        return false;
      }
    } else if (!d.skipValue()) {
      return false;
    }
  }
  statement = st;
  return true;
}

// The members of the three kinds of input beyond the envelope.
let statement: SoftwareStatement | null = null;
let phase: Phase = Phase.Register;
let hasPhase = false;
let metadata: Obj | null = null;
let current: Obj | null = null;
let clientID = "";
let policies: string[] = [];
let claims: Obj | null = null;
let lifetime: i64 = 0;
let grantType = "";
let authMethod = "";
let requestedScope: string[] = [];
let allowedScope: string[] = [];
let scope: string[] = [];
let resources: string[] = [];
let audience: string[] = [];

/** Reads a string array member into one of the lists above. */
function strsInto(d: Decoder, which: i32): bool {
  const s = strs(d);
  if (s == null) return false;
  if (which == 0) requestedScope = s;
  else if (which == 1) allowedScope = s;
  else if (which == 2) scope = s;
  else if (which == 3) resources = s;
  else audience = s;
  return true;
}

/** Reads an input document in one pass, filling env and the hook members
 * above; members it does not know are skipped (a later host may add
 * members). A bad document fails the call. */
function decode(doc: Slice, env: Envelope): bool {
  statement = null;
  phase = Phase.Register;
  hasPhase = false;
  metadata = null;
  current = null;
  clientID = "";
  policies = [];
  claims = null;
  lifetime = 0;
  grantType = "";
  authMethod = "";
  requestedScope = [];
  allowedScope = [];
  scope = [];
  resources = [];
  audience = [];
  why = "";
  const d = Decoder.of(doc);
  if (d.begin() != Read.OK) {
    fail("input: " + (d.err != null ? d.err! : "not a JSON object"));
    return false;
  }
  while (true) {
    const r = d.next();
    if (r == Read.Other) break;
    if (r == Read.Error) {
      fail("input: invalid JSON at offset " + d.errAt.toString() + ": " + d.err!);
      return false;
    }
    const namePtr = d.namePtr;
    const nameLen = d.nameLen;
    const namePlain = d.namePlain;
    let ok = true;
    if (d.nameIs("abi")) {
      ok = int(d);
      env.abi = intValue;
    } else if (d.nameIs("hook")) {
      const s = str(d);
      ok = s != null;
      if (ok) env.hook = s!;
    } else if (d.nameIs("tenant")) {
      const s = str(d);
      ok = s != null;
      if (ok) env.tenant = s!;
    } else if (d.nameIs("now")) {
      ok = int(d);
      env.now = intValue;
    } else if (d.nameIs("token")) {
      ok = token(d, env.token);
    } else if (d.nameIs("request")) {
      ok = request(d, env);
    } else if (d.nameIs("config")) {
      if (!d.null()) {
        ok = d.rawValue();
        if (ok) env.config = String.UTF8.decodeUnsafe(d.rawPtr, d.rawLen);
      }
    } else if (d.nameIs("phase")) {
      const s = str(d);
      ok = s != null;
      if (ok) {
        hasPhase = true;
        if (s! == "register") phase = Phase.Register;
        else if (s! == "update") phase = Phase.Update;
        else {
          why = 'not "register" or "update"';
          ok = false;
        }
      }
    } else if (d.nameIs("metadata")) {
      if (!d.null()) {
        metadata = obj(d);
        ok = metadata != null;
      }
    } else if (d.nameIs("client_id")) {
      const s = str(d);
      ok = s != null;
      if (ok) clientID = s!;
    } else if (d.nameIs("current")) {
      if (!d.null()) {
        current = obj(d);
        ok = current != null;
      }
    } else if (d.nameIs("policies")) {
      const s = strs(d);
      ok = s != null;
      if (ok) policies = s!;
    } else if (d.nameIs("grant_type")) {
      const s = str(d);
      ok = s != null;
      if (ok) grantType = s!;
    } else if (d.nameIs("auth_method")) {
      const s = str(d);
      ok = s != null;
      if (ok) authMethod = s!;
    } else if (d.nameIs("requested_scope")) {
      ok = strsInto(d, 0);
    } else if (d.nameIs("allowed_scope")) {
      ok = strsInto(d, 1);
    } else if (d.nameIs("scope")) {
      ok = strsInto(d, 2);
    } else if (d.nameIs("resources")) {
      ok = strsInto(d, 3);
    } else if (d.nameIs("audience")) {
      ok = strsInto(d, 4);
    } else if (d.nameIs("lifetime")) {
      if (!d.null()) {
        ok = int(d);
        lifetime = intValue;
      }
    } else if (d.nameIs("claims")) {
      if (!d.null()) {
        claims = obj(d);
        ok = claims != null;
      }
    } else if (d.nameIs("software_statement")) {
      ok = softwareStatement(d);
    } else {
      ok = d.skipValue();
    }
    if (!ok) {
      const name = decodeBody(namePtr, nameLen, namePlain);
      if (d.err != null) fail('input member "' + name + '": invalid JSON at offset ' + d.errAt.toString() + ": " + d.err!);
      else fail('input member "' + name + '": ' + why);
      return false;
    }
  }
  if (!d.end()) {
    fail("input: invalid JSON at offset " + d.errAt.toString() + ": " + d.err!);
    return false;
  }
  return true;
}

/** @internal */
export function decodePolicy(doc: Slice): PolicyInput | null {
  const in_ = new PolicyInput();
  if (!decode(doc, in_)) return null;
  if (!hasPhase) {
    fail("input has no phase");
    return null;
  }
  in_.phase = phase;
  if (metadata != null) in_.metadata = metadata!;
  in_.clientID = clientID;
  in_.current = current;
  in_.policies = policies;
  in_.softwareStatement = statement;
  return in_;
}

/** @internal */
export function decodeFactory(doc: Slice): FactoryInput | null {
  const in_ = new FactoryInput();
  if (!decode(doc, in_)) return null;
  if (metadata != null) in_.metadata = metadata!;
  return in_;
}

/** @internal */
export function decodeDecision(doc: Slice): DecisionInput | null {
  const in_ = new DecisionInput();
  if (!decode(doc, in_)) return null;
  if (!hasPhase) {
    fail("input has no phase");
    return null;
  }
  in_.phase = phase;
  in_.clientID = clientID;
  if (metadata != null) in_.metadata = metadata!;
  return in_;
}

/** @internal */
export function decodeAccessToken(doc: Slice): AccessTokenInput | null {
  const in_ = new AccessTokenInput();
  if (!decode(doc, in_)) return null;
  in_.clientID = clientID;
  if (metadata != null) in_.metadata = metadata!;
  in_.grantType = grantType;
  in_.authMethod = authMethod;
  in_.requestedScope = requestedScope;
  in_.allowedScope = allowedScope;
  in_.scope = scope;
  in_.resources = resources;
  in_.audience = audience;
  in_.lifetime = lifetime;
  in_.policies = policies;
  if (claims != null) in_.claims = claims!;
  return in_;
}
