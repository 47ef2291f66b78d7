// rat-for-confidential-only: a Registrar issue_registration_access_token
// decision. Only confidential clients (those that authenticate to the token
// endpoint) get a registration access token; public clients, whose every
// installed copy would hold the same token, get none. See ../README.md.

import { DecisionInput, serveIssueRegistrationAccessToken } from "@registrar-dev/registrar-sdk/assembly";

export * from "@registrar-dev/registrar-sdk/assembly/exports";

export function registrar_issue_registration_access_token(ptr: u32, len: u32): u64 {
  return serveIssueRegistrationAccessToken(decide, ptr, len);
}

function decide(input: DecisionInput): bool {
  // token_endpoint_auth_method methods that mean a public client.
  let public_: string[] = ["none"];
  const cfg = input.configObject(); // its type errors fail the call
  if (cfg != null) {
    const methods = cfg.stringArray("public_methods");
    if (methods != null) public_ = methods;
  }
  // RFC 7591 §2: an absent method means client_secret_basic, a
  // confidential client. The metadata is validated by now.
  const method = input.metadata.string("token_endpoint_auth_method");
  return !public_.includes(method != null ? method : "client_secret_basic");
}
