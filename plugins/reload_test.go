package plugins_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/plugins"
)

// run runs h.Run until the test ends, before the host is closed.
func run(t *testing.T, h *plugins.Host) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := h.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// statusOf returns the status of one module of a host.
func statusOf(h *plugins.Host, tenant, name, source string) (engine.PolicyStatus, bool) {
	for _, s := range h.Status() {
		if s.Tenant == tenant && s.Name == name && s.Source == source {
			return s, true
		}
	}
	return engine.PolicyStatus{}, false
}

// serving returns the digest of the version that answers a tenant's policy
// calls under a name, "" when none does.
func serving(t *testing.T, h *plugins.Host, tenant, name string) string {
	t.Helper()
	out, err := h.Policy(context.Background(), tenant, name, &engine.PolicyInput{Tenant: tenant, Metadata: map[string]json.RawMessage{}})
	if out == nil {
		if err == nil {
			t.Fatal("no output and no error")
		}
		return ""
	}
	return out.Version
}

// writeFile writes a file of the policy folder, making its folder.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFolderWatch: with Watch, each change of the policy folder is live
// within a second: a new file, a changed one, a broken one (refused: the
// previous version keeps serving, and the status says why), a removed one,
// a tenant's folder added and removed.
func TestFolderWatch(t *testing.T) {
	dir := policyDir(t, map[string]string{"p.wasm": "accept"})
	var audit auditLog
	h := newHost(t, plugins.Config{Dir: dir, Watch: true, Rescan: time.Hour, Audit: audit.add})
	run(t, h)
	accept, v2, broken := fixture(t, "accept"), fixture(t, "accept-v2"), fixture(t, "tested-reject")
	const live = time.Second
	var took []time.Duration

	if got := serving(t, h, "acme", "p"); got != digest(accept) {
		t.Fatalf("serving %s at start", got)
	}
	time.Sleep(50 * time.Millisecond) // let the watcher start

	// A new file.
	writeFile(t, filepath.Join(dir, "q.wasm"), v2)
	took = append(took, testkit.Eventually(t, live, "new file", func() bool { return h.Has("acme", "q", engine.HookPolicy) }))

	// A changed file.
	writeFile(t, filepath.Join(dir, "p.wasm"), v2)
	took = append(took, testkit.Eventually(t, live, "changed file", func() bool { return serving(t, h, "acme", "p") == digest(v2) }))

	// A broken file: refused, the previous version keeps serving.
	writeFile(t, filepath.Join(dir, "p.wasm"), broken)
	testkit.Eventually(t, live, "broken file reported", func() bool {
		s, _ := statusOf(h, "", "p", "folder")
		return s.State == "failed"
	})
	s, _ := statusOf(h, "", "p", "folder")
	if s.Active != digest(v2) || s.Desired != digest(broken) || !strings.Contains(s.LastError, `self-test case "accepts a good client"`) || s.LastErrorAt.IsZero() {
		t.Errorf("status after a broken file: %+v", s)
	}
	if got := serving(t, h, "acme", "p"); got != digest(v2) {
		t.Errorf("serving %s after a broken file", got)
	}
	if err := h.Ready(); err != nil {
		t.Errorf("a broken file over a good version made the host unready: %v", err)
	}
	if !audit.has(engine.AuditPolicyRefused, "", "p", "accepts a good client") {
		t.Errorf("no audit event for the refusal: %+v", audit.events())
	}

	// Back to a good version.
	writeFile(t, filepath.Join(dir, "p.wasm"), accept)
	took = append(took, testkit.Eventually(t, live, "fixed file", func() bool { return serving(t, h, "acme", "p") == digest(accept) }))
	if s, _ := statusOf(h, "", "p", "folder"); s.State != "active" || s.Desired != s.Active {
		t.Errorf("status after the fix: %+v", s)
	}

	// A tenant's folder: its module shadows the shared one for that tenant only.
	writeFile(t, filepath.Join(dir, "acme", "p.wasm"), v2)
	took = append(took, testkit.Eventually(t, live, "tenant folder", func() bool { return serving(t, h, "acme", "p") == digest(v2) }))
	if got := serving(t, h, "globex", "p"); got != digest(accept) {
		t.Errorf("globex is served %s", got)
	}
	if err := os.RemoveAll(filepath.Join(dir, "acme")); err != nil {
		t.Fatal(err)
	}
	took = append(took, testkit.Eventually(t, live, "tenant folder removed", func() bool { return serving(t, h, "acme", "p") == digest(accept) }))
	if _, ok := statusOf(h, "acme", "p", "folder"); ok {
		t.Error("the removed tenant module still has a status")
	}

	// A removed file.
	if err := os.Remove(filepath.Join(dir, "q.wasm")); err != nil {
		t.Fatal(err)
	}
	took = append(took, testkit.Eventually(t, live, "removed file", func() bool { return !h.Has("acme", "q", engine.HookPolicy) }))
	if !audit.has(engine.AuditPolicyLoaded, "", "q", "removed") {
		t.Errorf("no audit event for the removal: %+v", audit.events())
	}
	t.Logf("folder change to live: %v", took)
}

// TestFolderPartialWrite: a file written in two parts is never activated
// half-written: a pause shorter than the settling time is one change; a
// longer one has the half refused while the previous version serves.
func TestFolderPartialWrite(t *testing.T) {
	dir := policyDir(t, map[string]string{"p.wasm": "accept"})
	h := newHost(t, plugins.Config{Dir: dir, Watch: true, Rescan: 50 * time.Millisecond})
	run(t, h)
	time.Sleep(50 * time.Millisecond)
	accept, next := fixture(t, "accept"), fixture(t, "accept-tested")
	path := filepath.Join(dir, "p.wasm")

	// Watch what serves the whole time.
	var mu sync.Mutex
	seen := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, _ := statusOf(h, "", "p", "folder")
			mu.Lock()
			seen[s.Active] = true
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
	})

	for i, pause := range []time.Duration{plugins.Settle / 3, 3 * plugins.Settle} {
		want := next
		if i == 1 {
			want = accept
		}
		half := len(want) * 2 / 3 // through the code, short of the self-test section
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(want[:half])
		time.Sleep(pause)
		f.Write(want[half:])
		f.Close()
		testkit.Eventually(t, 2*time.Second, "whole file active", func() bool { return serving(t, h, "acme", "p") == digest(want) })
	}
	close(stop)
	wg.Wait()
	for d := range seen {
		if d != digest(accept) && d != digest(next) {
			t.Errorf("a version that is neither file was active: %s", d)
		}
	}
}

// TestFolderRescan: without a watcher, the periodic rescan finds changes.
func TestFolderRescan(t *testing.T) {
	dir := policyDir(t, map[string]string{"p.wasm": "accept"})
	h := newHost(t, plugins.Config{Dir: dir, Rescan: 20 * time.Millisecond})
	run(t, h)
	v2 := fixture(t, "accept-v2")
	writeFile(t, filepath.Join(dir, "p.wasm"), v2)
	testkit.Eventually(t, time.Second, "change found by the rescan", func() bool { return serving(t, h, "acme", "p") == digest(v2) })
}

// TestFolderReady: a module that has never had a version that works keeps
// the host unready, naming it; a new tenant folder of broken modules too.
func TestFolderReady(t *testing.T) {
	dir := policyDir(t, map[string]string{"p.wasm": "accept"})
	h := newHost(t, plugins.Config{Dir: dir})
	if err := h.Ready(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "acme", "bad.wasm"), []byte("not wasm"))
	if err := h.SyncFolder(context.Background()); err == nil {
		t.Error("a broken module was not reported")
	}
	err := h.Ready()
	if err == nil || !strings.Contains(err.Error(), "acme/bad (folder) has no active version") || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("Ready: %v", err)
	}
	os.Remove(filepath.Join(dir, "acme", "bad.wasm"))
	h.SyncFolder(context.Background())
	if err := h.Ready(); err != nil {
		t.Errorf("Ready after the broken module went: %v", err)
	}
}

// TestFolderSideCases: a folder module's <name>.cases.json runs when it is
// activated; a failing case fails start-up, naming the case and the file.
func TestFolderSideCases(t *testing.T) {
	dir := policyDir(t, map[string]string{"acme/p.wasm": "accept"})
	os.WriteFile(filepath.Join(dir, "acme", "p.cases.json"), []byte(`{"cases":[{"name":"names the client","hook":"policy","want":{"metadata":{"client_name":"accepted"}}}]}`), 0o644)
	h := newHost(t, plugins.Config{Dir: dir})
	if !h.Has("acme", "p", engine.HookPolicy) {
		t.Fatal("not loaded")
	}
	os.WriteFile(filepath.Join(dir, "acme", "p.cases.json"), []byte(`{"cases":[{"name":"rejects","hook":"policy","want_error":"invalid_client_metadata"}]}`), 0o644)
	_, err := plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
	if err == nil || !strings.Contains(err.Error(), `acme/p.wasm: module "p": self-test case "rejects"`) {
		t.Errorf("failing side cases: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "acme", "p.cases.json"), []byte(`{"cases":[]}`), 0o644)
	_, err = plugins.New(context.Background(), plugins.Config{Dir: dir, Logger: testkit.DiscardLogger()})
	if err == nil || !strings.Contains(err.Error(), "acme/p.cases.json: no cases") {
		t.Errorf("bad side file: %v", err)
	}
}

// auditLog records audit events.
type auditLog struct {
	testkit.Recorder[engine.AuditEvent]
}

func (a *auditLog) add(_ context.Context, e engine.AuditEvent) { a.Add(e) }

func (a *auditLog) events() []engine.AuditEvent { return a.All() }

// has reports an event of that type about that module whose detail
// contains detail.
func (a *auditLog) has(typ, tenant, name, detail string) bool {
	for _, e := range a.events() {
		if e.Type == typ && e.Tenant == tenant && e.Policy != nil && e.Policy.Name == name && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}
