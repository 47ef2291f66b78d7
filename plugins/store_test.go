package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// code returns the OAuth code of an error, "" for nil.
func code(err error) engine.ErrorCode {
	if err == nil {
		return ""
	}
	return engine.AsError(err).Code
}

// TestUploads walks an uploaded policy through its life on one host:
// upload, a second version, rollback, a refused version, If-Match, shadow,
// promote, removal; each answer is live when the call returns.
func TestUploads(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	var audit auditLog
	var shadows testkit.Recorder[plugins.ShadowResult]
	dir := policyDir(t, map[string]string{"p.wasm": "minimal"})
	h := newHost(t, plugins.Config{Dir: dir, Store: store, Audit: audit.add, Shadow: shadows.Add})
	accept, v2, tested := fixture(t, "accept"), fixture(t, "accept-v2"), fixture(t, "accept-tested")
	by := engine.PolicyChangeOptions{By: "admin"}

	// The folder's shared module serves until the tenant uploads its own.
	if got := serving(t, h, "acme", "p"); got != digest(fixture(t, "minimal")) {
		t.Fatalf("serving %s", got)
	}
	rec, err := h.Upload(ctx, "acme", "p", accept, by)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Active != digest(accept) || rec.Revision != 1 || len(rec.Versions) != 1 || rec.Versions[0].UploadedBy != "admin" {
		t.Errorf("first upload: %+v", rec)
	}
	if got := serving(t, h, "acme", "p"); got != digest(accept) {
		t.Errorf("acme is served %s after its upload", got)
	}
	if got := serving(t, h, "globex", "p"); got != digest(fixture(t, "minimal")) {
		t.Errorf("globex is served %s, not the shared module", got)
	}
	if s, ok := statusOf(h, "acme", "p", "store"); !ok || s.State != "active" || s.Active != digest(accept) || s.ActivatedAt.IsZero() {
		t.Errorf("status %+v", s)
	}

	// A second version, then a rollback.
	if rec, err = h.Upload(ctx, "acme", "p", v2, engine.PolicyChangeOptions{By: "admin", IfRevision: 1}); err != nil || rec.Active != digest(v2) || rec.Revision != 2 {
		t.Fatalf("second upload: %+v %v", rec, err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(v2) {
		t.Errorf("serving %s after the second upload", got)
	}
	if _, err := h.Upload(ctx, "acme", "p", accept, engine.PolicyChangeOptions{IfRevision: 1}); code(err) != engine.CodePreconditionFailed {
		t.Errorf("an upload at an old revision: %v", err)
	}
	if _, err := h.Activate(ctx, "acme", "p", digest(accept), engine.PolicyChangeOptions{IfRevision: 1}); code(err) != engine.CodePreconditionFailed {
		t.Errorf("an activation at an old revision: %v", err)
	}
	if rec, err = h.Activate(ctx, "acme", "p", digest(accept), engine.PolicyChangeOptions{IfRevision: 2, By: "admin"}); err != nil || rec.Active != digest(accept) {
		t.Fatalf("rollback: %+v %v", rec, err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(accept) {
		t.Errorf("serving %s after the rollback", got)
	}
	if again, err := h.Activate(ctx, "acme", "p", digest(accept), by); err != nil || again.Revision != rec.Revision {
		t.Errorf("activating the active version changed the record: %+v %v", again, err)
	}
	if _, err := h.Activate(ctx, "acme", "p", digest(tested), by); code(err) != engine.CodeNotFound {
		t.Errorf("activating a version never uploaded: %v", err)
	}

	// A version that fails its self-tests is refused, saying why; nothing changes.
	before := rec.Revision
	_, err = h.Upload(ctx, "acme", "p", fixture(t, "tested-reject"), by)
	if code(err) != engine.CodeInvalidRequest || !strings.Contains(engine.AsError(err).Description, `self-test case "accepts a good client"`) {
		t.Errorf("a failing upload: %v", err)
	}
	for bad, want := range map[string]string{"garbage": "does not compile", "abi-v2": "ABI version 2", "forbidden-import": `imports from "env"`} {
		wasm := fixture(t, bad)
		if bad == "garbage" {
			wasm = []byte("not wasm")
		}
		if _, err := h.Upload(ctx, "acme", "p", wasm, by); code(err) != engine.CodeInvalidRequest || !strings.Contains(err.Error(), want) {
			t.Errorf("upload of %s: %v, want invalid_request saying %q", bad, err, want)
		}
	}
	if rec, _ := h.StoredPolicy(ctx, "acme", "p"); rec.Revision != before || rec.Active != digest(accept) {
		t.Errorf("a refused upload changed the record: %+v", rec)
	}
	if got := serving(t, h, "acme", "p"); got != digest(accept) {
		t.Errorf("serving %s after a refused upload", got)
	}
	if !audit.has(engine.AuditPolicyRefused, "acme", "p", "accepts a good client") {
		t.Errorf("no audit event for the refusal")
	}

	// Shadow: the shadow version runs on live calls, compared, never enforced.
	if rec, err = h.SetShadow(ctx, "acme", "p", digest(v2), by); err != nil || rec.Shadow != digest(v2) {
		t.Fatalf("shadow: %+v %v", rec, err)
	}
	if _, err := h.SetShadow(ctx, "acme", "p", digest(accept), by); code(err) != engine.CodeInvalidRequest {
		t.Errorf("the active version as shadow: %v", err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(accept) {
		t.Errorf("serving %s with a shadow", got)
	}
	var rs []plugins.ShadowResult
	testkit.Eventually(t, time.Second, "shadow result", func() bool { rs = append(rs, shadows.Take()...); return len(rs) > 0 })
	if r := rs[0]; r.Result != plugins.ShadowDiffer || r.Active != digest(accept) || r.Shadow != digest(v2) || !strings.Contains(r.Summary, "client_name") || r.Tenant != "acme" || r.Policy != "p" {
		t.Errorf("shadow result %+v", r)
	}
	if s, _ := statusOf(h, "acme", "p", "store"); s.Shadow != digest(v2) {
		t.Errorf("status %+v", s)
	}

	// Promote: the shadow becomes active.
	if rec, err = h.Promote(ctx, "acme", "p", by); err != nil || rec.Active != digest(v2) || rec.Shadow != "" {
		t.Fatalf("promote: %+v %v", rec, err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(v2) {
		t.Errorf("serving %s after the promotion", got)
	}
	if _, err := h.Promote(ctx, "acme", "p", by); code(err) != engine.CodeInvalidRequest {
		t.Errorf("promote without a shadow: %v", err)
	}
	if rec, err = h.Upload(ctx, "acme", "p", tested, engine.PolicyChangeOptions{Shadow: true}); err != nil || rec.Shadow != digest(tested) || rec.Active != digest(v2) {
		t.Fatalf("upload in shadow: %+v %v", rec, err)
	}
	if rec, err = h.SetShadow(ctx, "acme", "p", "", by); err != nil || rec.Shadow != "" {
		t.Fatalf("stop the shadow: %+v %v", rec, err)
	}

	// Removal: the folder's module serves again.
	if err := h.Remove(ctx, "acme", "p", engine.PolicyChangeOptions{IfRevision: rec.Revision, By: "admin"}); err != nil {
		t.Fatal(err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(fixture(t, "minimal")) {
		t.Errorf("serving %s after the removal", got)
	}
	if _, ok := statusOf(h, "acme", "p", "store"); ok {
		t.Error("the removed module still has a status")
	}
	if err := h.Remove(ctx, "acme", "p", by); code(err) != engine.CodeNotFound {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := h.StoredPolicy(ctx, "acme", "p"); code(err) != engine.CodeNotFound {
		t.Errorf("record after the removal: %v", err)
	}
	for _, typ := range []string{"uploaded and activated", "activated", "set to run in shadow", "promoted", "uploaded to run in shadow", "shadow stopped", "removed"} {
		if !audit.has(engine.AuditPolicyLoaded, "acme", "p", typ) {
			t.Errorf("no audit event %q", typ)
		}
	}
	if err := h.Ready(); err != nil {
		t.Error(err)
	}
}

// TestUploadRefusals: names, sizes, a shadow without an active version and
// a host without a store are refused.
func TestUploadRefusals(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{})})
	accept := fixture(t, "accept")
	for name, err := range map[string]error{
		"bad tenant": func() error {
			_, err := h.Upload(ctx, "Not A Tenant", "p", accept, engine.PolicyChangeOptions{})
			return err
		}(),
		"bad name": func() error { _, err := h.Upload(ctx, "acme", "p/q", accept, engine.PolicyChangeOptions{}); return err }(),
		"empty":    func() error { _, err := h.Upload(ctx, "acme", "p", nil, engine.PolicyChangeOptions{}); return err }(),
		"too big": func() error {
			_, err := h.Upload(ctx, "acme", "p", make([]byte, engine.MaxPolicyBytes+1), engine.PolicyChangeOptions{})
			return err
		}(),
		"shadow first": func() error {
			_, err := h.Upload(ctx, "acme", "p", accept, engine.PolicyChangeOptions{Shadow: true})
			return err
		}(),
		"if-match none": func() error {
			_, err := h.Upload(ctx, "acme", "p", accept, engine.PolicyChangeOptions{IfRevision: 3})
			return err
		}(),
	} {
		want := engine.CodeInvalidRequest
		if name == "if-match none" {
			want = engine.CodePreconditionFailed
		}
		if code(err) != want {
			t.Errorf("%s: %v, want %s", name, err, want)
		}
	}
	for name, err := range map[string]error{
		"activate": func() error {
			_, err := h.Activate(ctx, "acme", "p", digest(accept), engine.PolicyChangeOptions{})
			return err
		}(),
		"shadow": func() error {
			_, err := h.SetShadow(ctx, "acme", "p", digest(accept), engine.PolicyChangeOptions{})
			return err
		}(),
		"promote": func() error { _, err := h.Promote(ctx, "acme", "p", engine.PolicyChangeOptions{}); return err }(),
		"remove":  h.Remove(ctx, "acme", "p", engine.PolicyChangeOptions{}),
	} {
		if code(err) != engine.CodeNotFound {
			t.Errorf("%s of a policy never uploaded: %v", name, err)
		}
	}
	if n := len(h.Status()); n != 0 {
		t.Errorf("refused calls left %d statuses: %+v", n, h.Status())
	}
	noStore := newHost(t, plugins.Config{})
	if _, err := noStore.Upload(ctx, "acme", "p", accept, engine.PolicyChangeOptions{}); code(err) != engine.CodeInvalidRequest {
		t.Errorf("an upload without a store: %v", err)
	}
}

// TestStoreUnavailable: store errors come back so that engine.AsError
// makes them temporarily_unavailable, and nothing changes.
func TestStoreUnavailable(t *testing.T) {
	ctx := context.Background()
	store := &flakyStore{PolicyStore: memstore.New(memstore.Config{})}
	h := newHost(t, plugins.Config{Store: store})
	if _, err := h.Upload(ctx, "acme", "p", fixture(t, "accept"), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	live := h.LiveModules()
	store.down(true)
	if _, err := h.Upload(ctx, "acme", "p", fixture(t, "accept-v2"), engine.PolicyChangeOptions{}); code(err) != engine.CodeTemporarilyUnavailable {
		t.Errorf("upload with the store down: %v", err)
	}
	if got := serving(t, h, "acme", "p"); got != digest(fixture(t, "accept")) {
		t.Errorf("serving %s", got)
	}
	if err := h.SyncStore(ctx); err == nil {
		t.Error("a rescan with the store down succeeded")
	}
	if h.LiveModules() != live {
		t.Errorf("%d live modules, want %d: a version verified for a failed upload was not freed", h.LiveModules(), live)
	}
	// A host started while the store is down is not ready until it has
	// read it.
	h2 := newHost(t, plugins.Config{Store: store})
	if err := h2.Ready(); err == nil || !strings.Contains(err.Error(), "not been read") {
		t.Errorf("Ready with the store down: %v", err)
	}
	store.down(false)
	if err := h2.SyncStore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h2.Ready(); err != nil || serving(t, h2, "acme", "p") != digest(fixture(t, "accept")) {
		t.Errorf("after the store came back: %v", err)
	}
}

// flakyStore is a PolicyStore whose server can go down.
type flakyStore struct {
	engine.PolicyStore
	mu    sync.Mutex
	isOff bool
}

func (s *flakyStore) down(off bool) {
	s.mu.Lock()
	s.isOff = off
	s.mu.Unlock()
}

func (s *flakyStore) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isOff {
		return engine.ErrUnavailable
	}
	return nil
}

func (s *flakyStore) PutPolicyBlob(ctx context.Context, tenant, name, digest string, wasm []byte) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.PolicyStore.PutPolicyBlob(ctx, tenant, name, digest, wasm)
}

func (s *flakyStore) StoredPolicies(ctx context.Context) ([]*engine.StoredPolicy, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.PolicyStore.StoredPolicies(ctx)
}

// TestTwoReplicas: two hosts on one store; what one uploads, activates,
// shadows or removes, the other runs within a second, through the
// store's change notifications; each reports its status to the store.
func TestTwoReplicas(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	cfg := plugins.Config{Store: store, Rescan: time.Hour, StatusEvery: 50 * time.Millisecond}
	cfg.Replica = "a"
	a := newHost(t, cfg)
	cfg.Replica = "b"
	b := newHost(t, cfg)
	run(t, a)
	run(t, b)
	// Both subscribed: each reported its status once it had.
	testkit.Eventually(t, time.Second, "both replicas reported", func() bool {
		ss, err := a.Statuses(ctx)
		return err == nil && len(ss) == 2
	})
	accept, v2 := fixture(t, "accept"), fixture(t, "accept-v2")
	var took []time.Duration
	for i, wasm := range [][]byte{accept, v2, accept, v2} {
		start := time.Now()
		if _, err := a.Upload(ctx, "acme", "p", wasm, engine.PolicyChangeOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := serving(t, a, "acme", "p"); got != digest(wasm) {
			t.Fatalf("upload %d: a serves %s when Upload returns", i, got)
		}
		testkit.Eventually(t, time.Second, "b runs the upload", func() bool { return serving(t, b, "acme", "p") == digest(wasm) })
		took = append(took, time.Since(start))
	}
	if _, err := b.Activate(ctx, "acme", "p", digest(accept), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Second, "a runs b's rollback", func() bool { return serving(t, a, "acme", "p") == digest(accept) })
	if _, err := a.SetShadow(ctx, "acme", "p", digest(v2), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Second, "b runs the shadow", func() bool { s, _ := statusOf(b, "acme", "p", "store"); return s.Shadow == digest(v2) })
	testkit.Eventually(t, time.Second, "the store has b's status", func() bool {
		ss, _ := a.Statuses(ctx)
		for _, s := range ss {
			if s.Replica == "b" && len(s.Policies) == 1 && s.Policies[0].Shadow == digest(v2) {
				return true
			}
		}
		return false
	})
	if err := a.Remove(ctx, "acme", "p", engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Second, "b removes it", func() bool { return !b.Has("acme", "p", engine.HookPolicy) })
	t.Logf("upload on a to live on b: %v", took)
}

// TestReplicaCatchesUp: a replica that missed the change notifications
// (it was not running) catches up at its rescan.
func TestReplicaCatchesUp(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	a := newHost(t, plugins.Config{Store: store})
	b := newHost(t, plugins.Config{Store: store, Rescan: 30 * time.Millisecond})
	if _, err := a.Upload(ctx, "acme", "p", fixture(t, "accept"), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	if b.Has("acme", "p", engine.HookPolicy) {
		t.Fatal("b has it without running")
	}
	run(t, b)
	testkit.Eventually(t, time.Second, "b catches up", func() bool { return b.Has("acme", "p", engine.HookPolicy) })
	if err := a.Remove(ctx, "acme", "p", engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, time.Second, "b removes it", func() bool { return !b.Has("acme", "p", engine.HookPolicy) })
}

// TestShadowResults: a shadow that answers as the active version agrees;
// one that fails is counted failed, and the request never sees it.
func TestShadowResults(t *testing.T) {
	ctx := context.Background()
	var shadows testkit.Recorder[plugins.ShadowResult]
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{}), Shadow: shadows.Add, Limits: plugins.Limits{Timeout: 100 * time.Millisecond}})
	if _, err := h.Upload(ctx, "acme", "p", fixture(t, "accept"), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ shadow, result string }{
		{"accept-tested", plugins.ShadowAgree},
		{"trap", plugins.ShadowFailed},
		{"loop", plugins.ShadowFailed},
		{"reject", plugins.ShadowDiffer},
	} {
		if _, err := h.Upload(ctx, "acme", "p", fixture(t, tc.shadow), engine.PolicyChangeOptions{Shadow: true}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := h.Policy(ctx, "acme", "p", &engine.PolicyInput{Tenant: "acme", Metadata: map[string]json.RawMessage{}})
		if err != nil || out.Version != digest(fixture(t, "accept")) {
			t.Errorf("%s in shadow: the request got %+v %v", tc.shadow, out, err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("%s in shadow: the request took %s", tc.shadow, d)
		}
		var rs []plugins.ShadowResult
		testkit.Eventually(t, time.Second, "shadow result", func() bool { rs = append(rs, shadows.Take()...); return len(rs) > 0 })
		if rs[0].Result != tc.result || rs[0].Shadow != digest(fixture(t, tc.shadow)) {
			t.Errorf("%s in shadow: %+v, want %s", tc.shadow, rs[0], tc.result)
		}
	}
}

// TestEvaluate: a dry run answers the decision and the metadata diff of a
// kept version, of bytes not stored, or of the active version, and stores
// and swaps nothing.
func TestEvaluate(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	h := newHost(t, plugins.Config{Store: store, Dir: policyDir(t, map[string]string{"shared.wasm": "minimal"})})
	accept, v2 := fixture(t, "accept"), fixture(t, "accept-v2")
	if _, err := h.Upload(ctx, "acme", "p", accept, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Upload(ctx, "acme", "p", v2, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	rec, _ := h.StoredPolicy(ctx, "acme", "p")
	modules := h.Modules()
	testkit.Eventually(t, time.Second, "the replaced version closed", func() bool { return h.LiveModules() == int64(len(modules)) })
	in := &engine.PolicyInput{Phase: engine.PhaseRegister, Metadata: map[string]json.RawMessage{
		"redirect_uris": json.RawMessage(`["https://app.example/cb"]`),
		"client_name":   json.RawMessage(`"Mine"`),
	}}

	ev, err := h.Evaluate(ctx, "acme", "p", "", nil, in) // the active version
	if err != nil || ev.Version != digest(v2) || !ev.Accepted || string(ev.Metadata["client_name"]) != `"accepted v2"` {
		t.Fatalf("active: %+v %v", ev, err)
	}
	want := []engine.MemberChange{
		{Member: "client_name", Op: "changed", Before: json.RawMessage(`"Mine"`), After: json.RawMessage(`"accepted v2"`)},
		{Member: "redirect_uris", Op: "removed", Before: json.RawMessage(`["https://app.example/cb"]`)},
	}
	if !slices.EqualFunc(ev.Diff, want, func(a, b engine.MemberChange) bool {
		return a.Member == b.Member && a.Op == b.Op && string(a.Before) == string(b.Before) && string(a.After) == string(b.After)
	}) {
		t.Errorf("diff %+v", ev.Diff)
	}
	if ev, err := h.Evaluate(ctx, "acme", "p", digest(accept), nil, in); err != nil || ev.Version != digest(accept) || string(ev.Metadata["client_name"]) != `"accepted"` {
		t.Errorf("kept version: %+v %v", ev, err)
	}
	if ev, err := h.Evaluate(ctx, "acme", "p", "", fixture(t, "reject"), in); err != nil || ev.Accepted || ev.Error != engine.CodeInvalidClientMetadata || ev.Description != "rejected by the reject fixture" {
		t.Errorf("bytes that reject: %+v %v", ev, err)
	}
	if ev, err := h.Evaluate(ctx, "globex", "shared", "", nil, in); err != nil || !ev.Accepted {
		t.Errorf("a shared folder module: %+v %v", ev, err)
	}
	for name, tc := range map[string]struct {
		digest string
		wasm   []byte
		code   engine.ErrorCode
		want   string
	}{
		"self-test fails": {"", fixture(t, "tested-reject"), engine.CodeInvalidRequest, `self-test case "accepts a good client"`},
		"module traps":    {"", fixture(t, "trap"), engine.CodeInvalidRequest, "failed: registrar_policy: trapped"},
		"no policy hook":  {"", fixture(t, "fixed-id"), engine.CodeInvalidRequest, "does not implement the policy hook"},
		"wrong digest":    {digest(accept), v2, engine.CodeInvalidRequest, "digest"},
		"unknown version": {digest(fixture(t, "reject")), nil, engine.CodeNotFound, "keeps no version"},
	} {
		_, err := h.Evaluate(ctx, "acme", "p", tc.digest, tc.wasm, in)
		if code(err) != tc.code || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %s saying %q", name, err, tc.code, tc.want)
		}
	}
	if _, err := h.Evaluate(ctx, "acme", "nope", "", nil, in); code(err) != engine.CodeNotFound {
		t.Errorf("no such module: %v", err)
	}
	// Nothing stored, nothing swapped, nothing left loaded.
	if after, _ := h.StoredPolicy(ctx, "acme", "p"); after.Revision != rec.Revision || len(after.Versions) != 2 {
		t.Errorf("the record changed: %+v", after)
	}
	if got := h.Modules(); len(got) != len(modules) || got[1].Digest != modules[1].Digest {
		t.Errorf("modules %+v, want %+v", got, modules)
	}
	if h.LiveModules() != int64(len(modules)) {
		t.Errorf("%d live modules after the dry runs, want %d", h.LiveModules(), len(modules))
	}
}

// TestVersionsKept: a policy keeps its newest engine.MaxPolicyVersions
// versions, never dropping the active or the shadow one; re-uploading a
// kept version moves it first.
func TestVersionsKept(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{})})
	first := withSection(fixture(t, "accept"), "v", []byte{0})
	if _, err := h.Upload(ctx, "acme", "p", first, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	shadow := withSection(fixture(t, "accept"), "v", []byte{1})
	if _, err := h.Upload(ctx, "acme", "p", shadow, engine.PolicyChangeOptions{Shadow: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Activate(ctx, "acme", "p", digest(first), engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	var rec *engine.StoredPolicy
	var err error
	for i := 2; i < 2+2*engine.MaxPolicyVersions; i++ {
		if rec, err = h.Upload(ctx, "acme", "p", withSection(fixture(t, "accept"), "v", []byte{byte(i)}), engine.PolicyChangeOptions{Shadow: true}); err != nil {
			t.Fatal(err)
		}
	}
	if len(rec.Versions) != engine.MaxPolicyVersions {
		t.Errorf("%d versions kept", len(rec.Versions))
	}
	if _, ok := rec.Version(digest(first)); !ok {
		t.Error("the active version was dropped")
	}
	if rec, err = h.Upload(ctx, "acme", "p", first, engine.PolicyChangeOptions{}); err != nil || rec.Versions[0].Digest != digest(first) || len(rec.Versions) != engine.MaxPolicyVersions {
		t.Errorf("re-upload: %+v %v", rec, err)
	}
	if errors.Is(err, engine.ErrNotFound) {
		t.Fatal(err)
	}
}
