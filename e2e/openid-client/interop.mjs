// Drives one Registrar tenant's token, introspection and revocation
// endpoints with openid-client, a third-party OAuth 2.0 client library.
// e2e/openid_client_test.go registers the clients and runs this script;
// it takes everything from the environment:
//
//   REGISTRAR_ISSUER    the tenant's issuer (http://127.0.0.1:<port>/tenants/<t>)
//   REGISTRAR_CLIENTS   a JSON array of clients, each
//                       {"method": "client_secret_basic", "client_id": ..., "client_secret": ...} or
//                       {"method": "private_key_jwt", "client_id": ..., "jwk": <private JWK with kid>}
//   REGISTRAR_SCOPE     the scope to ask for (optional)
//   REGISTRAR_RESOURCE  the resource indicator to ask for (optional)
//
// For each client it discovers the issuer, gets a token with the client
// credentials grant, introspects it (active, the client's), revokes it,
// introspects it again (inactive), and checks that wrong credentials of
// the same method are refused with invalid_client. It prints a JSON
// summary on stdout and exits 1 with a message on stderr at the first
// failure.
import { readFile } from 'node:fs/promises';
import * as client from 'openid-client';

// CheckFailed is thrown for a check that did not hold.
class CheckFailed extends Error {}

function check(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

function env(name, required = true) {
  const v = process.env[name];
  if (required && !v) throw new CheckFailed(`${name} is not set`);
  return v || '';
}

// libraryVersion is the installed openid-client's version, for the summary.
async function libraryVersion() {
  const url = new URL('./node_modules/openid-client/package.json', import.meta.url);
  return JSON.parse(await readFile(url, 'utf8')).version;
}

// importPrivateKey turns a private JWK into what PrivateKeyJwt takes:
// openid-client picks the JWS algorithm from the key (ES256 for P-256,
// RS256 for RSASSA-PKCS1-v1_5 with SHA-256).
async function importPrivateKey(jwk) {
  let alg;
  if (jwk.kty === 'EC') alg = { name: 'ECDSA', namedCurve: jwk.crv };
  else if (jwk.kty === 'RSA') alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  else throw new CheckFailed(`unsupported private key type ${jwk.kty}`);
  const key = await crypto.subtle.importKey('jwk', jwk, alg, false, ['sign']);
  return { key, kid: jwk.kid };
}

// clientAuth returns the openid-client authentication for a client, and
// one of the same method with wrong credentials.
async function clientAuth(c) {
  switch (c.method) {
    case 'client_secret_basic':
      check(c.client_secret, `${c.client_id}: no client_secret`);
      return [client.ClientSecretBasic(c.client_secret), client.ClientSecretBasic(c.client_secret + 'x')];
    case 'private_key_jwt': {
      check(c.jwk && c.jwk.d, `${c.client_id}: no private jwk`);
      const key = await importPrivateKey(c.jwk);
      // Another key under the registered kid: a signature the server must refuse.
      const other = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      return [client.PrivateKeyJwt(key), client.PrivateKeyJwt({ key: other.privateKey, kid: c.jwk.kid })];
    }
    default:
      throw new CheckFailed(`unsupported method ${c.method}`);
  }
}

// refusal runs fn, which must fail with an OAuth error response, and
// returns its HTTP status and error code.
async function refusal(what, fn) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof client.ResponseBodyError) return { status: err.status, error: err.error };
    if (err instanceof client.WWWAuthenticateChallengeError) {
      // A 401 with a challenge: openid-client reports the challenge, and
      // the body's error code under cause.
      return { status: err.status, error: err.cause?.[0]?.parameters?.error ?? (await bodyError(err.response)) };
    }
    throw err;
  }
  throw new CheckFailed(`${what}: succeeded, want a refusal`);
}

async function bodyError(response) {
  try {
    return (await response.clone().json()).error;
  } catch {
    return undefined;
  }
}

// flow runs the whole sequence for one client.
async function flow(issuer, c, params) {
  const [auth, wrong] = await clientAuth(c);
  const options = { execute: [client.allowInsecureRequests] };
  const config = await client.discovery(issuer, c.client_id, undefined, auth, options);
  const meta = config.serverMetadata();
  check(meta.issuer === env('REGISTRAR_ISSUER'), `discovery: issuer ${meta.issuer}, want ${env('REGISTRAR_ISSUER')}`);
  const methods = meta.token_endpoint_auth_methods_supported || [];
  check(methods.includes(c.method), `discovery does not advertise ${c.method}: ${JSON.stringify(methods)}`);

  const tok = await client.clientCredentialsGrant(config, params);
  check(typeof tok.access_token === 'string' && tok.access_token !== '', 'token: no access_token');
  check(tok.token_type === 'bearer', `token: token_type ${tok.token_type}, want bearer`);
  check(!params.scope || tok.scope === params.scope, `token: scope ${tok.scope}, want ${params.scope}`);
  check(typeof tok.expiresIn() === 'number' && tok.expiresIn() > 0, `token: expires_in ${tok.expires_in}`);

  const before = await client.tokenIntrospection(config, tok.access_token);
  check(before.active === true, `introspection before revocation: ${JSON.stringify(before)}`);
  check(before.client_id === c.client_id, `introspection: client_id ${before.client_id}, want ${c.client_id}`);
  check(!params.scope || before.scope === params.scope, `introspection: scope ${before.scope}`);

  await client.tokenRevocation(config, tok.access_token);
  const after = await client.tokenIntrospection(config, tok.access_token);
  check(after.active === false, `introspection after revocation: ${JSON.stringify(after)}`);
  check(Object.keys(after).length === 1, `an inactive token's introspection says more than active: ${JSON.stringify(after)}`);

  const bad = new client.Configuration(meta, c.client_id, undefined, wrong);
  client.allowInsecureRequests(bad);
  const refused = await refusal(`${c.method} with wrong credentials`, () => client.clientCredentialsGrant(bad, params));
  check(refused.status === 401 && refused.error === 'invalid_client', `wrong credentials: ${JSON.stringify(refused)}, want 401 invalid_client`);

  return {
    method: c.method,
    client_id: c.client_id,
    token: { token_type: tok.token_type, scope: tok.scope, expires_in: tok.expiresIn() },
    introspection: { active: before.active, client_id: before.client_id, scope: before.scope, aud: before.aud, iss: before.iss },
    after_revocation: after,
    wrong_credentials: refused,
  };
}

async function main() {
  const issuer = new URL(env('REGISTRAR_ISSUER'));
  const clients = JSON.parse(env('REGISTRAR_CLIENTS'));
  check(Array.isArray(clients) && clients.length > 0, 'REGISTRAR_CLIENTS: want a non-empty JSON array');
  const params = {};
  if (env('REGISTRAR_SCOPE', false)) params.scope = env('REGISTRAR_SCOPE');
  if (env('REGISTRAR_RESOURCE', false)) params.resource = env('REGISTRAR_RESOURCE');
  const summary = { library: `openid-client@${await libraryVersion()}`, issuer: env('REGISTRAR_ISSUER'), flows: [] };
  for (const c of clients) {
    try {
      summary.flows.push(await flow(issuer, c, params));
    } catch (err) {
      throw new Error(`${c.method} (${c.client_id}): ${await describe(err)}`);
    }
  }
  process.stdout.write(JSON.stringify(summary) + '\n');
}

// describe says what went wrong, with the server's answer when there was one.
async function describe(err) {
  if (err instanceof CheckFailed) return err.message;
  const parts = [err.message];
  if (err.code) parts.push(`code ${err.code}`);
  if (err.status) parts.push(`status ${err.status}`);
  if (err.error) parts.push(`error ${err.error}: ${err.error_description ?? ''}`);
  else if (err.response instanceof Response) parts.push(`body ${(await err.response.clone().text().catch(() => '?')).trim()}`);
  if (err.cause && !(err.cause instanceof Response)) parts.push(`cause ${err.cause.message ?? JSON.stringify(err.cause)}`);
  return parts.join('; ');
}

main().catch((err) => {
  process.stderr.write(`openid-client interop: ${err instanceof CheckFailed ? err.message : err.message || err}\n`);
  process.exit(1);
});
