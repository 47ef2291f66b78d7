package engine

import "time"

// What the external tests (package engine_test) reach that is not part of
// engine's API.

// DefaultTokenLifetime is the lifetime of an initial access token minted
// without one.
const DefaultTokenLifetime = defaultTokenLifetime

// DefaultOpenRegistrationRate is the per-IP limit of open registration
// when a tenant sets none.
var DefaultOpenRegistrationRate = defaultOpenRegistrationRate

// ParseDuration is the parser behind Duration's JSON form.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }

// CloneMetadata returns a deep copy of m.
func CloneMetadata(m Metadata) Metadata { return m.clone() }

// IsCompactJWS is the shape check of software_statement.
func IsCompactJWS(s string) bool { return isCompactJWS(s) }

// IATCacheTTL is how long a registration uses a remembered initial access
// token record.
const IATCacheTTL = iatCacheTTL
