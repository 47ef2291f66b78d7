// Package e2e owns the end-to-end tests of a shared provider: several
// Registrar replicas (engine, Redis store, policy host, public and admin
// APIs) over one real redis-server, serving several tenants, with real
// policy modules from policies-examples. It has no code of its own; its
// tests are skipped when redis-server is not installed (and fail instead
// with REGISTRAR_REQUIRE_REDIS=1, as CI sets). TestOpenIDClientInterop
// drives the token endpoints with openid-client from npm (openid-client/);
// it is skipped without node or its node_modules, and fails instead with
// REGISTRAR_REQUIRE_NODE=1, as CI sets.
package e2e
