package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/metrics"
)

// TestReplicationWait: each wait is counted by outcome in the histogram,
// and a second registration observes the same one.
func TestReplicationWait(t *testing.T) {
	m := metrics.New(metrics.Config{})
	observe := m.ReplicationWait()
	observe(2*time.Millisecond, "acked")
	observe(time.Second, "short")
	m.ReplicationWait()(time.Millisecond, "acked")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`registrar_store_replication_wait_seconds_count{outcome="acked"} 2`,
		`registrar_store_replication_wait_seconds_count{outcome="short"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
