// Package engine owns the rules of OAuth 2.0 Dynamic Client Registration:
// RFC 7591 registration, RFC 7592 management and OpenID Connect Dynamic
// Client Registration 1.0.
//
// It holds the client metadata types and their validation, tenant settings,
// initial and registration access tokens, the registration and management
// pipelines, and the typed OAuth [Error]. It touches nothing outside the
// process: storage, policy modules and JSON Web Key checks come in through
// the interfaces it defines ([Store], [Modules], [KeySetChecker]), and HTTP
// belongs to the httpapi package. engine imports only the standard library.
package engine
