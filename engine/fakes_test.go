package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/engine/storetest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
)

// newClock returns the settable clock of the engine's tests.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

// fakeStore is the reference store (memstore) behind a switch that makes
// every method fail with ErrUnavailable, as a store whose server is down.
type fakeStore struct{ *storetest.Switch }

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{storetest.NewSwitch(memstore.New(memstore.Config{Now: now}))}
}

func (s *fakeStore) setDown(down bool) { s.SetDown(down) }

// fakeModule is one policy module: each hook is optional. A missing policy
// hook passes the metadata through unchanged.
type fakeModule struct {
	policy   func(in *engine.PolicyInput) (*engine.PolicyOutput, error)
	clientID func(in *engine.FactoryInput) (string, error)
	secret   func(in *engine.FactoryInput) (string, error)
	decide   func(hook engine.Hook, in *engine.DecisionInput) (bool, error)
	// version names the module's version; its digest is HashToken of it.
	version string
}

// digest is the module's version digest, as plugins would report it.
func (m *fakeModule) digest() string { return engine.HashToken("module version " + m.version) }

// moduleCall records one hook call.
type moduleCall struct {
	Tenant, Module string
	Hook           engine.Hook
	Phase          engine.Phase
	// Metadata is a copy of the policy input's metadata.
	Metadata map[string]json.RawMessage
	Token    engine.TokenFacts
	ClientID string
	Current  *engine.Metadata
}

// fakeModules is an engine.Modules whose modules are Go functions.
type fakeModules struct {
	mu    sync.Mutex
	mods  map[[2]string]*fakeModule // tenant, name
	calls []moduleCall
	// snapshots and released count the snapshots taken and released.
	snapshots, released int
}

var _ engine.Modules = (*fakeModules)(nil)

func newFakeModules() *fakeModules {
	return &fakeModules{mods: map[[2]string]*fakeModule{}}
}

func (f *fakeModules) add(tenant, name string, m *fakeModule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mods[[2]string{tenant, name}] = m
}

func (f *fakeModules) remove(tenant, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.mods, [2]string{tenant, name})
}

func (f *fakeModules) get(tenant, name string) *fakeModule {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mods[[2]string{tenant, name}]
}

func (f *fakeModules) record(c moduleCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
}

// Calls returns the recorded calls and forgets them.
func (f *fakeModules) Calls() []moduleCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *fakeModules) Has(tenant, name string, _ engine.Hook) bool { return f.get(tenant, name) != nil }

// Snapshot returns the tenant's modules as they are now: later adds and
// removes do not change it.
func (f *fakeModules) Snapshot(tenant string) engine.ModuleSet {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.snapshots++
	mods := map[string]*fakeModule{}
	for k, m := range f.mods {
		if k[0] == tenant {
			mods[k[1]] = m
		}
	}
	return &fakeSet{f: f, tenant: tenant, mods: mods}
}

// Open returns how many snapshots were taken and not yet released.
func (f *fakeModules) Open() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snapshots - f.released
}

// fakeSet is a snapshot of fakeModules.
type fakeSet struct {
	f        *fakeModules
	tenant   string
	mods     map[string]*fakeModule
	released atomic.Bool
}

var _ engine.ModuleSet = (*fakeSet)(nil)

func (s *fakeSet) get(name string) *fakeModule {
	if s.released.Load() {
		panic("fake: module set used after Release")
	}
	return s.mods[name]
}

func (s *fakeSet) Release() {
	if s.released.Swap(true) {
		panic("fake: module set released twice")
	}
	s.f.mu.Lock()
	s.f.released++
	s.f.mu.Unlock()
}

func (s *fakeSet) Has(name string, _ engine.Hook) bool { return s.get(name) != nil }

func (s *fakeSet) Version(name string) string {
	if m := s.get(name); m != nil {
		return m.digest()
	}
	return ""
}

func (s *fakeSet) Policy(_ context.Context, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	m := s.get(name)
	if m == nil {
		return nil, errors.New("fake: no such module")
	}
	s.f.record(moduleCall{Tenant: s.tenant, Module: name, Hook: engine.HookPolicy, Phase: in.Phase, Metadata: maps.Clone(in.Metadata), Token: in.Token, ClientID: in.ClientID, Current: in.Current})
	if m.policy == nil {
		return &engine.PolicyOutput{Metadata: maps.Clone(in.Metadata), Version: m.digest()}, nil
	}
	out, err := m.policy(in)
	if out == nil {
		out = &engine.PolicyOutput{}
	}
	out.Version = m.digest()
	return out, err
}

func (s *fakeSet) ClientID(_ context.Context, name string, in *engine.FactoryInput) (string, error) {
	m := s.get(name)
	if m == nil || m.clientID == nil {
		return "", errors.New("fake: module has no id_factory hook")
	}
	s.f.record(moduleCall{Tenant: s.tenant, Module: name, Hook: engine.HookIDFactory, Token: in.Token})
	return m.clientID(in)
}

func (s *fakeSet) IssueAccessToken(_ context.Context, name string, in *engine.AccessTokenInput) (*engine.AccessTokenOutput, error) {
	if s.get(name) == nil {
		return nil, errors.New("fake: no such module")
	}
	return nil, errors.New("fake: the engine runs no issue_access_token hook")
}

func (s *fakeSet) ClientSecret(_ context.Context, name string, in *engine.FactoryInput) (string, error) {
	m := s.get(name)
	if m == nil || m.secret == nil {
		return "", errors.New("fake: module has no secret_factory hook")
	}
	s.f.record(moduleCall{Tenant: s.tenant, Module: name, Hook: engine.HookSecretFactory, Token: in.Token})
	return m.secret(in)
}

func (s *fakeSet) Decide(_ context.Context, name string, hook engine.Hook, in *engine.DecisionInput) (bool, error) {
	m := s.get(name)
	if m == nil || m.decide == nil {
		return false, errors.New("fake: module has no decision hook")
	}
	s.f.record(moduleCall{Tenant: s.tenant, Module: name, Hook: hook, Phase: in.Phase, Token: in.Token, ClientID: in.ClientID})
	return m.decide(hook, in)
}

// Policy behaviours.

// setMembers returns a policy that sets members (raw JSON values).
func setMembers(members map[string]string) func(*engine.PolicyInput) (*engine.PolicyOutput, error) {
	return func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
		md := maps.Clone(in.Metadata)
		for k, v := range members {
			md[k] = json.RawMessage(v)
		}
		return &engine.PolicyOutput{Metadata: md}, nil
	}
}

// rejectWith returns a policy that refuses every request with code.
func rejectWith(code engine.ErrorCode, description string) func(*engine.PolicyInput) (*engine.PolicyOutput, error) {
	return func(*engine.PolicyInput) (*engine.PolicyOutput, error) {
		return nil, &engine.Error{Code: code, Description: description}
	}
}

// setRegistrationPolicies returns a policy that passes the metadata through
// and sets the registration access token's policies (none: an empty list).
func setRegistrationPolicies(names ...string) func(*engine.PolicyInput) (*engine.PolicyOutput, error) {
	if names == nil {
		names = []string{} // nil would mean "keep the list"
	}
	return func(in *engine.PolicyInput) (*engine.PolicyOutput, error) {
		return &engine.PolicyOutput{Metadata: maps.Clone(in.Metadata), RegistrationPolicies: names}, nil
	}
}
