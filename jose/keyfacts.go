package jose

import (
	"reflect"
	"sync"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// keyFacts is what verifying with a key of a parsed set needs to know of
// it that never changes: its public key as crypto/* holds it, and whether
// it is one Registrar accepts (checkParsedKey). Working them out takes
// three conversions of the JWK and a curve check, about 9 µs for a P-256
// key: as much as everything else on a statement's way besides the
// signature check.
type keyFacts struct {
	raw    any
	rawErr error // from jwk.Key.Raw
	bad    error // from checkParsedKey
}

// maxKnownKeys bounds the keys whose facts are remembered. A key set
// fetched again is parsed into new keys; when the bound is reached the
// memory is cleared, which costs no more than the first use of each key.
const maxKnownKeys = 1024

// knownKeys remembers the facts of the keys of parsed sets. The sets are
// never changed once parsed (KeySets, inline jwks), so a key's facts hold
// for as long as the key does.
var knownKeys struct {
	sync.Mutex
	m map[jwk.Key]*keyFacts
}

// factsOf returns k's facts, working them out on k's first use. Keys are
// remembered by identity: jwx's keys are pointers, and one of any other
// kind (which could not be a map key) is not remembered.
func factsOf(k jwk.Key) *keyFacts {
	if reflect.TypeOf(k).Kind() != reflect.Pointer {
		return newFacts(k)
	}
	knownKeys.Lock()
	f, ok := knownKeys.m[k]
	knownKeys.Unlock()
	if ok {
		return f
	}
	f = newFacts(k)
	knownKeys.Lock()
	if knownKeys.m == nil || len(knownKeys.m) >= maxKnownKeys {
		knownKeys.m = make(map[jwk.Key]*keyFacts)
	}
	knownKeys.m[k] = f
	knownKeys.Unlock()
	return f
}

// newFacts works out k's facts.
func newFacts(k jwk.Key) *keyFacts {
	f := &keyFacts{bad: checkParsedKey(k)}
	f.rawErr = k.Raw(&f.raw)
	return f
}
