/** The error codes a hook may reject with: those of RFC 7591 §3.2.2 for
 * the registration hooks, those of RFC 6749 §5.2 (the last three) for the
 * issue_access_token hook. A code of the other kind fails the call. */
export enum Code {
  /** invalid_redirect_uri: a redirect URI is not acceptable. */
  InvalidRedirectURI,
  /** invalid_client_metadata: a metadata member is not acceptable. */
  InvalidClientMetadata,
  /** invalid_software_statement: the software statement is invalid. */
  InvalidSoftwareStatement,
  /** unapproved_software_statement: the software statement is not approved. */
  UnapprovedSoftwareStatement,
  /** invalid_scope (token endpoint, 400): the scope is not acceptable. */
  InvalidScope,
  /** unauthorized_client (token endpoint, 400): not this client, not this way. */
  UnauthorizedClient,
  /** access_denied (token endpoint, 403): the token is refused. */
  AccessDenied,
}

/** Reports a code of the issue_access_token hook. */
export function isTokenCode(code: Code): bool {
  return code == Code.InvalidScope || code == Code.UnauthorizedClient || code == Code.AccessDenied;
}

/** The code as the client receives it. */
export function codeName(code: Code): string {
  switch (code) {
    case Code.InvalidRedirectURI:
      return "invalid_redirect_uri";
    case Code.InvalidSoftwareStatement:
      return "invalid_software_statement";
    case Code.UnapprovedSoftwareStatement:
      return "unapproved_software_statement";
    case Code.InvalidScope:
      return "invalid_scope";
    case Code.UnauthorizedClient:
      return "unauthorized_client";
    case Code.AccessDenied:
      return "access_denied";
    default:
      return "invalid_client_metadata";
  }
}

/** The code of a name, or -1 if it is none of the seven. */
export function parseCode(name: string): i32 {
  for (let c = 0; c < 7; c++) {
    if (codeName(<Code>c) == name) return c;
  }
  return -1;
}

/** A rejection (the client receives its code and description) or a
 * failure (the call fails; the message goes to Registrar's log). */
export class Answer {
  constructor(
    public rejection: bool,
    public code: Code,
    public message: string,
  ) {}
}

// The first rejection or failure of the current call.
let first: Answer | null = null;

/**
 * Rejects the request: the client receives the code and the description
 * (made safe when it is sent: at most 1,024 bytes, control characters
 * replaced by spaces). The first rejection or failure of a call is its
 * answer, whatever the hook returns; return right after it.
 */
export function reject(code: Code, description: string): void {
  if (first == null) first = new Answer(true, code, description);
}

/**
 * Fails the call: the client receives server_error, and the SDK logs
 * "registrar: the <hook> hook failed: <message>". Use it for what is not
 * the client's fault, such as a broken configuration. The first rejection
 * or failure of a call is its answer, whatever the hook returns.
 */
export function fail(message: string): void {
  if (first == null) first = new Answer(false, Code.InvalidClientMetadata, message);
}

/** Reports whether the call has been rejected or failed (by reject, fail
 * or an accessor that met a member of the wrong type). */
export function failed(): bool {
  return first != null;
}

/** @internal The answer recorded in this call, if any. */
export function recorded(): Answer | null {
  return first;
}

/** @internal Forgets the answer of the previous call. */
export function resetAnswer(): void {
  first = null;
}
