// The AssemblyScript SDK for Registrar policy modules: the types of the
// hooks' input and output documents, typed access to client metadata,
// rejections, logging and randomness, and the memory, allocator and JSON
// plumbing of the module ABI (sdk/ABI.md). See README.md.
//
// A module's entry file exports the allocator and ABI version, and one
// function per hook it handles, each calling that hook's serve function:
//
//   import { PolicyInput, PolicyOutput, servePolicy } from "@registrar-dev/registrar-sdk/assembly";
//   export * from "@registrar-dev/registrar-sdk/assembly/exports";
//
//   export function registrar_policy(ptr: u32, len: u32): u64 {
//     return servePolicy(check, ptr, len);
//   }
//
//   function check(input: PolicyInput): PolicyOutput | null { ... }

import { Buf, writeString, writeStrings } from "./json";
import { codeName, isTokenCode, recorded, resetAnswer, fail } from "./errors";
import {
  AccessTokenInput, AccessTokenOutput, DecisionInput, FactoryInput, PolicyInput, PolicyOutput,
  decodeAccessToken, decodeDecision, decodeFactory, decodePolicy,
} from "./input";
import { inputSlice } from "./buffer";
import { failCall, setHook } from "./abort";
export { abort } from "./abort";

export { Code, reject, fail, failed, parseCode, codeName, isTokenCode } from "./errors";
export { log, Level, random, randomString, BASE32, BASE62 } from "./host";
export { Obj } from "./object";
export { Phase, Token, Envelope, PolicyInput, PolicyOutput, FactoryInput, DecisionInput, AccessTokenInput, AccessTokenOutput, SoftwareStatement } from "./input";

/** A policy: returns the metadata to continue with, or null to accept the
 * input's as it is; reject() or fail() answer instead. */
export type PolicyFn = (input: PolicyInput) => PolicyOutput | null;
/** An id_factory or secret_factory: returns the client_id or client_secret. */
export type FactoryFn = (input: FactoryInput) => string;
/** A registration-access-token decision. */
export type DecisionFn = (input: DecisionInput) => bool;
/** An issue_access_token hook: returns what it changes (null: nothing);
 * reject() with Code.InvalidScope, UnauthorizedClient or AccessDenied
 * denies the token, fail() fails the call. */
export type AccessTokenFn = (input: AccessTokenInput) => AccessTokenOutput | null;

/** The claim names an issue_access_token hook may not set: the token
 * endpoint decides them. */
export const RESERVED_CLAIMS: string[] = [
  "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope",
  "cnf", "token_type", "active", "username", "auth_time", "acr", "amr",
];

const MAX_DESCRIPTION = 1024;

// The output document, reused from call to call.
const output = new Buf(1024);

// Whether the current call is of the issue_access_token hook, whose
// rejections use the token endpoint's codes.
let tokenHook = false;

function start(hook: i32): void {
  tokenHook = hook == 5;
  // Modules are built with --runtime minimal: the garbage collector runs
  // only when asked, here, once per call, when nothing of a call is live
  // but what globals hold. That costs less than the incremental runtime's
  // work on every allocation (sdk/README.md).
  __collect();
  setHook(hook);
  output.len = 0;
  resetAnswer();
}

/** The description as it may be sent: control characters (C0, DEL, C1)
 * replaced by spaces, lone surrogates by U+FFFD, cut to 1,024 bytes of
 * UTF-8 at a character boundary. */
function safeDescription(s: string): string {
  const n = s.length;
  const units = new StaticArray<u16>(n);
  let len = 0;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    let pair = false;
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const lo = s.charCodeAt(i + 1);
      pair = lo >= 0xdc00 && lo < 0xe000;
    }
    const size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (bytes + size > MAX_DESCRIPTION) break;
    bytes += size;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) c = 0x20;
    else if (!pair && c >= 0xd800 && c < 0xe000) c = 0xfffd;
    units[len++] = <u16>c;
    if (pair) units[len++] = <u16>s.charCodeAt(++i);
  }
  return String.UTF16.decodeUnsafe(changetype<usize>(units), <usize>len << 1);
}

/** Writes the answer recorded by reject or fail, if any: true if there was
 * one (a failure is logged and traps). */
function answered(): bool {
  const a = recorded();
  if (a == null) return false;
  if (!a.rejection) failCall(a.message);
  if (isTokenCode(a.code) != tokenHook) {
    failCall("rejected with " + codeName(a.code) + ", but the code is not " + (tokenHook ? "invalid_scope, unauthorized_client or access_denied" : "one of the RFC 7591 codes"));
  }
  output.len = 0;
  output.ascii('{"error":"');
  output.ascii(codeName(a.code));
  output.byte(0x22);
  const desc = safeDescription(a.message);
  if (desc.length > 0) {
    output.ascii(',"error_description":');
    writeString(output, desc);
  }
  output.byte(0x7d);
  return true;
}

function result(): u64 {
  return (<u64>output.ptr << 32) | <u64>output.len;
}

/** Runs one call of the policy hook on the input at (ptr, len). */
export function servePolicy(fn: PolicyFn, ptr: u32, len: u32): u64 {
  start(0);
  const in_ = decodePolicy(inputSlice(ptr, len));
  if (in_ != null) {
    const res = fn(in_);
    if (!answered()) {
      output.ascii('{"metadata":');
      (res != null ? res.metadata : in_.metadata).write(output);
      if (res != null && res.registrationPolicies != null) {
        output.ascii(',"registration_policies":');
        writeStrings(output, res.registrationPolicies!);
      }
      output.byte(0x7d);
    }
  } else {
    answered();
  }
  return result();
}

/** validClientID: 1 to 128 characters of A-Z a-z 0-9 . _ ~ - */
function validClientID(s: string): bool {
  if (s.length < 1 || s.length > 128) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x5f || c == 0x7e || c == 0x2d)) return false;
  }
  return true;
}

/** validClientSecret: 32 to 512 printable ASCII characters without spaces. */
function validClientSecret(s: string): bool {
  if (s.length < 32 || s.length > 512) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function serveFactory(hook: i32, fn: FactoryFn, ptr: u32, len: u32): u64 {
  start(hook);
  const in_ = decodeFactory(inputSlice(ptr, len));
  if (in_ != null) {
    const v = fn(in_);
    const id = hook == 1;
    if (recorded() == null && id && !validClientID(v)) fail("returned a client_id that is not 1 to 128 characters of A-Z a-z 0-9 . _ ~ -");
    if (recorded() == null && !id && !validClientSecret(v)) fail("returned a client_secret that is not 32 to 512 printable ASCII characters without spaces");
    if (!answered()) {
      output.ascii(id ? '{"client_id":' : '{"client_secret":');
      writeString(output, v);
      output.byte(0x7d);
    }
  } else {
    answered();
  }
  return result();
}

/** Runs one call of the id_factory hook on the input at (ptr, len). The
 * client_id must be 1 to 128 characters of A-Z a-z 0-9 . _ ~ - (anything
 * else fails the call). */
export function serveIDFactory(fn: FactoryFn, ptr: u32, len: u32): u64 {
  return serveFactory(1, fn, ptr, len);
}

/** Runs one call of the secret_factory hook on the input at (ptr, len).
 * The client_secret must be 32 to 512 printable ASCII characters without
 * spaces (anything else fails the call). */
export function serveSecretFactory(fn: FactoryFn, ptr: u32, len: u32): u64 {
  return serveFactory(2, fn, ptr, len);
}

function serveDecision(hook: i32, fn: DecisionFn, ptr: u32, len: u32): u64 {
  start(hook);
  const in_ = decodeDecision(inputSlice(ptr, len));
  if (in_ != null) {
    const yes = fn(in_);
    if (!answered()) output.ascii(yes ? '{"decision":true}' : '{"decision":false}');
  } else {
    answered();
  }
  return result();
}

/** Runs one call of the issue_registration_access_token hook. */
export function serveIssueRegistrationAccessToken(fn: DecisionFn, ptr: u32, len: u32): u64 {
  return serveDecision(3, fn, ptr, len);
}

/** Runs one call of the rotate_registration_access_token hook. */
export function serveRotateRegistrationAccessToken(fn: DecisionFn, ptr: u32, len: u32): u64 {
  return serveDecision(4, fn, ptr, len);
}

/** Fails the call if res is what the host would refuse (sdk/ABI.md §2). */
function checkAccessToken(in_: AccessTokenInput, res: AccessTokenOutput): void {
  const sc = res.scope;
  if (sc != null) {
    for (let i = 0; i < sc.length; i++) {
      if (!in_.scope.includes(sc[i])) {
      fail('returned scope "' + sc[i] + '", which is not in the input\'s scope');
      return;
    }
      if (sc.indexOf(sc[i]) != i) {
      fail('returned scope "' + sc[i] + '" twice');
      return;
    }
    }
  }
  const aud = res.audience;
  if (aud != null && (aud.length < 1 || aud.length > 16 || aud.includes(""))) {
      fail("returned an audience that is not 1 to 16 non-empty strings");
      return;
    }
  if (res.lifetime < 0 || res.lifetime > in_.lifetime) {
    {
      fail("returned a lifetime of " + res.lifetime.toString() + " seconds; the most is the input's " + in_.lifetime.toString());
      return;
    }
  }
  for (let i = 0; i < res.claims.length; i++) {
    const name = res.claims.nameAt(i);
    if (name.length == 0 || RESERVED_CLAIMS.includes(name)) {
      fail('returned claim "' + name + '", which is reserved: the token endpoint sets it');
      return;
    }
    if (in_.claims.get(name) != null) {
      fail('returned claim "' + name + '", which an earlier module set');
      return;
    }
  }
  const n = String.UTF8.byteLength(res.claims.toJSON());
  if (n > 4096) fail("returned claims of " + n.toString() + " bytes; the most is 4096");
}

/** Runs one call of the issue_access_token hook on the input at (ptr,
 * len). An output the host would refuse (a scope value beyond the
 * input's, a longer lifetime, a reserved claim) fails the call. */
export function serveIssueAccessToken(fn: AccessTokenFn, ptr: u32, len: u32): u64 {
  start(5);
  const in_ = decodeAccessToken(inputSlice(ptr, len));
  if (in_ != null) {
    const res = fn(in_);
    if (res != null && recorded() == null) checkAccessToken(in_, res);
    if (!answered()) {
      output.byte(0x7b);
      if (res != null) {
        if (res.scope != null) {
          output.ascii('"scope":');
          writeStrings(output, res.scope!);
        }
        if (res.audience != null) {
          if (output.len > 1) output.byte(0x2c);
          output.ascii('"audience":');
          writeStrings(output, res.audience!);
        }
        if (res.lifetime > 0) {
          if (output.len > 1) output.byte(0x2c);
          output.ascii('"lifetime":' + res.lifetime.toString());
        }
        if (res.claims.length > 0) {
          if (output.len > 1) output.byte(0x2c);
          output.ascii('"claims":');
          res.claims.write(output);
        }
      }
      output.byte(0x7d);
    }
  } else {
    answered();
  }
  return result();
}
