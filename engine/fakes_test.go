package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// seededRand is a deterministic, concurrency-safe source of randomness.
type seededRand struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func newSeededRand(seed byte) *seededRand {
	var s [32]byte
	s[0] = seed
	return &seededRand{r: rand.NewChaCha8(s)}
}

func (r *seededRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.r.Read(p)
}

// fakeStore is an engine.Store over maps, faithful to the interface's
// contract: atomic writes, expiry at read time, initial access token uses
// consumed in the same step as the client is created. Values are cloned in
// and out so that callers cannot change stored records.
type fakeStore struct {
	mu      sync.Mutex
	now     func() time.Time
	clients map[[2]string]*engine.Client
	tokens  map[[2]string]*engine.InitialAccessToken
	// down makes every method fail with ErrUnavailable.
	down bool
}

var _ engine.Store = (*fakeStore)(nil)

func newFakeStore(now func() time.Time) *fakeStore {
	return &fakeStore{
		now:     now,
		clients: map[[2]string]*engine.Client{},
		tokens:  map[[2]string]*engine.InitialAccessToken{},
	}
}

// client returns the live client, with the lock held.
func (s *fakeStore) client(tenant, id string) (*engine.Client, bool) {
	c, ok := s.clients[[2]string{tenant, id}]
	if !ok || !engine.Live(c.ExpiresAt, s.now()) {
		return nil, false
	}
	return c, true
}

func (s *fakeStore) token(tenant, id string) (*engine.InitialAccessToken, bool) {
	t, ok := s.tokens[[2]string{tenant, id}]
	if !ok || !engine.Live(t.ExpiresAt, s.now()) {
		return nil, false
	}
	return t, true
}

func (s *fakeStore) CreateClient(_ context.Context, c *engine.Client, replace bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return engine.ErrUnavailable
	}
	var iat *engine.InitialAccessToken
	if c.IssuedBy != "" {
		t, ok := s.token(c.Tenant, c.IssuedBy)
		if !ok {
			return engine.ErrNotFound
		}
		if t.Exhausted() {
			return engine.ErrTokenExhausted
		}
		iat = t
	}
	if _, exists := s.client(c.Tenant, c.ID); exists && !replace {
		return engine.ErrAlreadyExists
	}
	// Nothing can fail from here on: both writes happen.
	if iat != nil {
		iat.Uses++
	}
	s.clients[[2]string{c.Tenant, c.ID}] = c.Clone()
	return nil
}

func (s *fakeStore) Client(_ context.Context, tenant, id string) (*engine.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrUnavailable
	}
	c, ok := s.client(tenant, id)
	if !ok {
		return nil, engine.ErrNotFound
	}
	return c.Clone(), nil
}

func (s *fakeStore) UpdateClient(_ context.Context, tenant, id string, fn func(*engine.Client) error) (*engine.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrUnavailable
	}
	c, ok := s.client(tenant, id)
	if !ok {
		return nil, engine.ErrNotFound
	}
	next := c.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	s.clients[[2]string{tenant, id}] = next
	return next.Clone(), nil
}

func (s *fakeStore) DeleteClient(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return engine.ErrUnavailable
	}
	if _, ok := s.client(tenant, id); !ok {
		return engine.ErrNotFound
	}
	delete(s.clients, [2]string{tenant, id})
	return nil
}

func (s *fakeStore) Clients(_ context.Context, tenant, after string, limit int) ([]*engine.Client, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, "", engine.ErrUnavailable
	}
	var ids []string
	for k := range s.clients {
		if _, ok := s.client(k[0], k[1]); ok && k[0] == tenant && k[1] > after {
			ids = append(ids, k[1])
		}
	}
	slices.Sort(ids)
	next := ""
	if len(ids) > limit {
		ids = ids[:limit]
		next = ids[limit-1]
	}
	out := make([]*engine.Client, len(ids))
	for i, id := range ids {
		out[i] = s.clients[[2]string{tenant, id}].Clone()
	}
	return out, next, nil
}

func (s *fakeStore) CreateInitialAccessToken(_ context.Context, t *engine.InitialAccessToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return engine.ErrUnavailable
	}
	if _, ok := s.token(t.Tenant, t.ID); ok {
		return engine.ErrAlreadyExists
	}
	s.tokens[[2]string{t.Tenant, t.ID}] = t.Clone()
	return nil
}

func (s *fakeStore) InitialAccessToken(_ context.Context, tenant, id string) (*engine.InitialAccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, engine.ErrUnavailable
	}
	t, ok := s.token(tenant, id)
	if !ok {
		return nil, engine.ErrNotFound
	}
	return t.Clone(), nil
}

func (s *fakeStore) DeleteInitialAccessToken(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return engine.ErrUnavailable
	}
	if _, ok := s.token(tenant, id); !ok {
		return engine.ErrNotFound
	}
	delete(s.tokens, [2]string{tenant, id})
	return nil
}

func (s *fakeStore) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return engine.ErrUnavailable
	}
	return nil
}

func (s *fakeStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// fakeModule is one policy module: each hook is optional. A missing policy
// hook passes the metadata through unchanged.
type fakeModule struct {
	policy   func(in *engine.PolicyInput) (*engine.PolicyOutput, error)
	clientID func(in *engine.FactoryInput) (string, error)
	secret   func(in *engine.FactoryInput) (string, error)
	decide   func(hook engine.Hook, in *engine.DecisionInput) (bool, error)
}

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

func (f *fakeModules) Policy(_ context.Context, tenant, name string, in *engine.PolicyInput) (*engine.PolicyOutput, error) {
	m := f.get(tenant, name)
	if m == nil {
		return nil, errors.New("fake: no such module")
	}
	f.record(moduleCall{Tenant: tenant, Module: name, Hook: engine.HookPolicy, Phase: in.Phase, Metadata: maps.Clone(in.Metadata), Token: in.Token, ClientID: in.ClientID, Current: in.Current})
	if m.policy == nil {
		return &engine.PolicyOutput{Metadata: maps.Clone(in.Metadata)}, nil
	}
	return m.policy(in)
}

func (f *fakeModules) ClientID(_ context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	m := f.get(tenant, name)
	if m == nil || m.clientID == nil {
		return "", errors.New("fake: module has no id_factory hook")
	}
	f.record(moduleCall{Tenant: tenant, Module: name, Hook: engine.HookIDFactory, Token: in.Token})
	return m.clientID(in)
}

func (f *fakeModules) ClientSecret(_ context.Context, tenant, name string, in *engine.FactoryInput) (string, error) {
	m := f.get(tenant, name)
	if m == nil || m.secret == nil {
		return "", errors.New("fake: module has no secret_factory hook")
	}
	f.record(moduleCall{Tenant: tenant, Module: name, Hook: engine.HookSecretFactory, Token: in.Token})
	return m.secret(in)
}

func (f *fakeModules) Decide(_ context.Context, tenant, name string, hook engine.Hook, in *engine.DecisionInput) (bool, error) {
	m := f.get(tenant, name)
	if m == nil || m.decide == nil {
		return false, errors.New("fake: module has no decision hook")
	}
	f.record(moduleCall{Tenant: tenant, Module: name, Hook: hook, Phase: in.Phase, Token: in.Token, ClientID: in.ClientID})
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
