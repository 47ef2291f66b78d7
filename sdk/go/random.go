package registrar

// maxRandomChunk is the most the host's random import fills at once.
const maxRandomChunk = 64 << 10

// Random fills b with cryptographically secure random bytes from the host.
func Random(b []byte) { hostRandom(b) }

// RandomString returns n characters drawn uniformly and independently from
// alphabet (at most 256 distinct bytes), with cryptographically secure
// randomness. It panics if alphabet is empty or longer than 256 bytes.
func RandomString(n int, alphabet string) string {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		panic("registrar: RandomString needs an alphabet of 1 to 256 bytes")
	}
	if n <= 0 {
		return ""
	}
	// Rejection sampling: draw bytes, keep those below the largest
	// multiple of len(alphabet), so that every character is equally likely.
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		Random(buf)
		for _, c := range buf {
			if int(c) < limit {
				out = append(out, alphabet[int(c)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// Alphabets for RandomString.
const (
	// Base32 is the lower-case RFC 4648 base32 alphabet: 5 bits a character,
	// in one case, so that IDs survive case-insensitive handling.
	Base32 = "abcdefghijklmnopqrstuvwxyz234567"
	// Base62 is the letters and digits: about 5.95 bits a character.
	Base62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)
