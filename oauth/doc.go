// Package oauth is each tenant's authorization server for the clients it
// registers: client authentication (RFC 6749 §2.3, RFC 7523 §3, OpenID
// Connect Core §9), the client_credentials grant (RFC 6749 §4.4), access
// tokens (opaque, or JWTs per RFC 9068), introspection (RFC 7662) and
// revocation (RFC 7009).
//
// It knows no HTTP: httpapi decodes a request into a TokenRequest,
// IntrospectRequest or RevokeRequest and writes what comes back. Errors are
// *engine.Error values with the codes of RFC 6749 §5.2, so that the one
// status table of internal/httpio maps them. Clients come from the
// engine's store; tokens, replay marks and signing keys from this
// package's Store, which memstore and redisstore implement and
// oauth/storetest checks.
package oauth
