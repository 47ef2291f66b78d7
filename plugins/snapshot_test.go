package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/plugins"
)

// noKeys is a KeySetChecker for clients that send no jwks.
type noKeys struct{}

func (noKeys) CheckKeySet(json.RawMessage) error { return errors.New("no jwks expected") }

// TestOneVersionPerRequest: registrations run while goroutines upload the
// two versions of a module in turn, without pause. The module's policy
// names the client after its version and its id_factory prefixes the IDs
// with it: every client has a name and an ID prefix of one version, and a
// history that names that version for its policy, its id_factory and its
// registration access token decision.
func TestOneVersionPerRequest(t *testing.T) {
	ctx := context.Background()
	store := memstore.New(memstore.Config{})
	h := newHost(t, plugins.Config{Store: store, Limits: plugins.Limits{Timeout: 5 * time.Second}})
	versions := map[string][]byte{"v1": fixture(t, "labelled-v1"), "v2": fixture(t, "labelled-v2")}
	if _, err := h.Upload(ctx, "acme", "labelled", versions["v1"], engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := engine.New(engine.Config{
		Store: store, Keys: noKeys{}, Modules: h, Logger: testkit.DiscardLogger(),
		Tenants: map[string]engine.Settings{"acme": {
			InitialAccessToken: engine.TokenNone, DefaultPolicies: []string{"labelled"}, IDFactory: "labelled",
			IssueRegistrationAccessToken: engine.Decision{Module: "labelled"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}

	swaps := 60
	if testing.Short() {
		swaps = 20
	}
	var done atomic.Bool
	var reloads sync.WaitGroup
	for g := range 2 {
		reloads.Go(func() {
			for i := range swaps / 2 {
				v := []string{"v1", "v2"}[(i+g)%2]
				if _, err := h.Upload(ctx, "acme", "labelled", versions[v], engine.PolicyChangeOptions{}); err != nil {
					t.Errorf("upload %s: %v", v, err)
					return
				}
			}
		})
	}
	var mu sync.Mutex
	var ids []string
	var registrations sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		registrations.Go(func() {
			for !done.Load() {
				ci, err := r.Register(ctx, engine.RegisterRequest{Tenant: "acme", Body: []byte(`{"redirect_uris":["https://rp.example/cb"]}`)})
				if err != nil {
					t.Errorf("register: %v", err)
					return
				}
				mu.Lock()
				ids = append(ids, ci.Client.ID)
				mu.Unlock()
			}
		})
	}
	reloads.Wait()
	done.Store(true)
	registrations.Wait()

	seen := map[string]int{}
	mixed := 0
	for _, id := range ids {
		c, err := store.Client(ctx, "acme", id)
		if err != nil {
			t.Fatalf("client %s: %v", id, err)
		}
		v, _, _ := strings.Cut(c.ID, "-")
		seen[v]++
		d := digest(versions[v])
		want := engine.Provenance{
			Event: engine.EventRegister, At: c.IssuedAt,
			Policies: []engine.PolicyVersion{{Name: "labelled", Digest: d}},
			Hooks: []engine.HookVersion{
				{Hook: engine.HookIDFactory, Name: "labelled", Digest: d},
				{Hook: engine.HookIssueRAT, Name: "labelled", Digest: d},
			},
		}
		if c.Metadata.ClientName != v || len(c.History) != 1 || !equalProvenance(c.History[0], want) {
			if mixed++; mixed <= 5 {
				t.Errorf("client %s named %q ran versions %+v; want one version, %s (%s)", c.ID, c.Metadata.ClientName, c.History, v, d[:12])
			}
		}
	}
	if mixed > 0 {
		t.Errorf("%d of %d registrations mixed versions", mixed, len(ids))
	}
	if seen["v1"] == 0 || seen["v2"] == 0 {
		t.Errorf("registrations by version: %v; want both versions to have served", seen)
	}
	t.Logf("%d registrations during %d reloads: %v", len(ids), swaps, seen)
	// Every version replaced is closed once its requests are over: only the
	// one serving is left.
	deadline := time.Now().Add(10 * time.Second)
	for h.LiveModules() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.LiveModules(); n != 1 {
		t.Errorf("%d module versions live after the reloads, want 1", n)
	}
}

// equalProvenance compares history entries.
func equalProvenance(a, b engine.Provenance) bool {
	return a.Event == b.Event && a.At.Equal(b.At) && a.Token == b.Token &&
		slices.Equal(a.Policies, b.Policies) && slices.Equal(a.Hooks, b.Hooks)
}

// TestSnapshotHoldsVersions: a snapshot keeps running the versions it was
// taken with after newer ones replace them, until it is released; then
// the replaced version is closed.
func TestSnapshotHoldsVersions(t *testing.T) {
	ctx := context.Background()
	h := newHost(t, plugins.Config{Store: memstore.New(memstore.Config{})})
	v1, v2 := fixture(t, "labelled-v1"), fixture(t, "labelled-v2")
	if _, err := h.Upload(ctx, "acme", "labelled", v1, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	in := &engine.PolicyInput{Tenant: "acme", Metadata: map[string]json.RawMessage{}}
	s := h.Snapshot("acme")
	if _, err := h.Upload(ctx, "acme", "labelled", v2, engine.PolicyChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // more calls than one: the version stays open between them
		out, err := s.Policy(ctx, "labelled", in)
		if err != nil || string(out.Metadata["client_name"]) != `"v1"` || out.Version != digest(v1) || s.Version("labelled") != digest(v1) {
			t.Fatalf("call %d on the snapshot: %+v %v; want v1's answer", i, out, err)
		}
		id, err := s.ClientID(ctx, "labelled", &engine.FactoryInput{Tenant: "acme"})
		if err != nil || !strings.HasPrefix(id, "v1-") {
			t.Fatalf("id_factory on the snapshot: %q %v; want v1's", id, err)
		}
	}
	if out, err := h.Policy(ctx, "acme", "labelled", in); err != nil || string(out.Metadata["client_name"]) != `"v2"` {
		t.Fatalf("a new snapshot: %+v %v; want v2's answer", out, err)
	}
	if n := h.LiveModules(); n != 2 {
		t.Errorf("%d versions live while the snapshot holds v1, want 2", n)
	}
	s.Release()
	deadline := time.Now().Add(10 * time.Second)
	for h.LiveModules() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.LiveModules(); n != 1 {
		t.Errorf("%d versions live after the release, want 1", n)
	}
	if s := h.Snapshot("globex"); s.Has("labelled", engine.HookPolicy) || s.Version("labelled") != "" {
		t.Error("another tenant's snapshot has acme's module")
	} else {
		s.Release()
	}
}
