package metrics_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/metrics"
)

// scrape fetches the metrics over HTTP, as Prometheus does, and returns
// the text exposition.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	srv := testkit.NewServer(t, m.Handler())
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	return string(body)
}

// samples returns the sample lines of one series name (a counter, or a
// histogram's name_count), sorted.
func samples(text, name string) []string {
	var lines []string
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return lines
}

// checkSamples compares the samples of a series name with want (in any
// order).
func checkSamples(t *testing.T, text, name string, want ...string) {
	t.Helper()
	slices.Sort(want)
	got := samples(text, name)
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot\n\t%s\nwant\n\t%s", name, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestRegistry: a fresh Metrics serves the build info and the Go and
// process collectors, and two of them do not share a registry.
func TestRegistry(t *testing.T) {
	m := metrics.New(metrics.Config{Version: "v1.2.3"})
	text := scrape(t, m)
	checkSamples(t, text, "registrar_build_info", `registrar_build_info{version="v1.2.3"} 1`)
	for _, want := range []string{"go_goroutines ", "go_memstats_alloc_bytes ", "process_start_time_seconds "} {
		if !strings.Contains(text, "\n"+want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	checkSamples(t, scrape(t, metrics.New(metrics.Config{})), "registrar_build_info", `registrar_build_info{version="unknown"} 1`)
	if strings.Contains(scrape(t, metrics.New(metrics.Config{})), "v1.2.3") {
		t.Error("a second Metrics sees the first one's series")
	}
}
