package fetch

import "testing"

// TestControlGuard: the default dialer's last check refuses what the guard
// refuses, on the address the socket connects to.
func TestControlGuard(t *testing.T) {
	for addr, ok := range map[string]bool{
		"203.0.113.10:443":      true,
		"[2001:db8::1]:443":     true,
		"127.0.0.1:443":         false,
		"[::1]:443":             false,
		"169.254.169.254:80":    false,
		"[::ffff:10.0.0.1]:443": false,
		"not-an-address:443":    false,
	} {
		err := controlGuard("tcp4", addr, nil)
		if (err == nil) != ok {
			t.Errorf("controlGuard(%s) = %v, want ok=%v", addr, err, ok)
		}
		if err != nil && KindOf(err) != Refused {
			t.Errorf("controlGuard(%s): kind %s, want refused", addr, KindOf(err))
		}
	}
}
