package redisstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/redistest"
)

// TestOpenMisconfigured: Open refuses at once, with ErrInvalidURL and the
// URL form to use, a single-server URL naming a Cluster node and a cluster
// URL naming a server without cluster mode; and a sentinel URL whose
// primary name the sentinels do not know, naming those they do.
func TestOpenMisconfigured(t *testing.T) {
	ctx := t.Context()
	cluster := redistest.StartCluster(t)
	single := redistest.Start(t, redistest.Options{})
	sentinels := redistest.StartSentinels(t, redistest.SentinelOptions{})
	sentinelURL := "redis+sentinel://" + strings.Join(sentinels.Addrs, ",") + "/"
	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"cluster node as a single server", "redis://" + cluster.Addrs[1], []string{"is a node of a Redis Cluster", "use redis+cluster://" + cluster.Addrs[1]}},
		{"single server as a cluster", "redis+cluster://" + single.Addr, []string{"not in cluster mode", "use redis://" + single.Addr}},
		{"unknown sentinel primary", sentinelURL + "registar", []string{`know no primary named "registar"`, "they monitor: registrar"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A long wait: the mistake is reported without waiting it out
			// (the test would time out otherwise).
			s, err := Open(ctx, tc.url, OpenOptions{Logger: quiet, Wait: time.Hour})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", tc.url)
			}
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("Open(%s) = %v, want ErrInvalidURL", tc.url, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open(%s) = %v, want it to say %q", tc.url, err, w)
				}
			}
		})
	}
	s, err := Open(ctx, sentinelURL+sentinels.Name, OpenOptions{Logger: quiet})
	if err != nil {
		t.Fatalf("Open with the right primary name: %v", err)
	}
	s.Close()
}
