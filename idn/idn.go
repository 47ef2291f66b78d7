// Package idn is Registrar's one user of IDNA (golang.org/x/net/idna, UTS
// #46): it puts internationalised host names of client metadata into their
// ASCII (A-label) form for engine, and refuses hosts that hide what they
// are. It implements engine.HostNormalizer.
package idn

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/registrar-dev/registrar/engine"
)

// Normalizer maps a host with UTS #46 (non-transitional, STD3 rules, the
// Bidi and ContextJ rules, DNS lengths) to its A-label form. Before
// mapping it refuses invisible and spacing characters that UTS #46 would
// silently drop or map (U+00AD soft hyphen, U+200B zero width space,
// U+00A0 no-break space, ...) and bidirectional controls (U+202E), so that
// what a person reads and what a browser resolves are the same host.
// Compatibility forms with a visible equivalent, such as the fullwidth dot
// U+FF0E, are mapped as browsers map them.
type Normalizer struct{}

var _ engine.HostNormalizer = Normalizer{}

// profile is UTS #46 processing for lookup, as browsers resolve hosts,
// with the checks registration would make as well.
var profile = idna.New(
	idna.MapForLookup(), idna.Transitional(false), idna.BidiRule(),
	idna.CheckHyphens(true), idna.CheckJoiners(true), idna.VerifyDNSLength(true),
)

// NormalizeHost implements engine.HostNormalizer.
func (Normalizer) NormalizeHost(host string) (string, error) {
	if !utf8.ValidString(host) {
		return "", errors.New("the host is not valid UTF-8")
	}
	if err := checkVisible(host); err != nil {
		return "", err
	}
	ascii, err := profile.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("the host is not a valid internationalised domain name (UTS #46): %v", err)
	}
	// An A-label sent as such may encode what the checks above refuse.
	uni, err := profile.ToUnicode(ascii)
	if err != nil {
		return "", fmt.Errorf("the host is not a valid internationalised domain name (UTS #46): %v", err)
	}
	if err := checkVisible(uni); err != nil {
		return "", err
	}
	return ascii, nil
}

// hidden are the characters a host must not contain: controls, format
// characters (bidirectional controls, zero width characters, the soft
// hyphen), white space of every kind, private use and surrogate code
// points, variation selectors and the other default-ignorable characters.
var hidden = []*unicode.RangeTable{
	unicode.Cc, unicode.Cf, unicode.Zs, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs,
	unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point, unicode.White_Space,
	unicode.Bidi_Control,
}

// checkVisible refuses a host with a hidden character, naming it.
func checkVisible(host string) error {
	for _, r := range host {
		if unicode.IsOneOf(hidden, r) {
			return fmt.Errorf("the host contains %U, an invisible, spacing or bidirectional control character", r)
		}
	}
	return nil
}
