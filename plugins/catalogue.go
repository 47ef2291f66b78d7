package plugins

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/registrar-dev/registrar/engine"
)

// source says where a module comes from.
type source string

// The sources of modules, as PolicyStatus.Source names them.
const (
	sourceFolder source = "folder"
	sourceStore  source = "store"
)

// key names a module of one source: tenant "" is a shared module of the
// folder.
type key struct {
	source source
	tenant string
	name   string
}

func (k key) String() string {
	if k.tenant == "" {
		return fmt.Sprintf("%s (shared, %s)", k.name, k.source)
	}
	return fmt.Sprintf("%s/%s (%s)", k.tenant, k.name, k.source)
}

func compareKeys(a, b key) int {
	return cmp.Or(strings.Compare(a.tenant, b.tenant), strings.Compare(a.name, b.name), strings.Compare(string(a.source), string(b.source)))
}

// entry is what serves one module: its active version and, for an
// uploaded module, the version that runs in shadow (nil for none).
type entry struct {
	active *Module
	shadow *Module
}

// modules lists the entry's modules.
func (e *entry) modules() []*Module {
	if e == nil {
		return nil
	}
	if e.shadow != nil {
		return []*Module{e.active, e.shadow}
	}
	return []*Module{e.active}
}

// holds reports whether the entry serves m.
func (e *entry) holds(m *Module) bool {
	return e != nil && (e.active == m || e.shadow == m)
}

// catalogue is one immutable set of modules: by source, tenant ("" for the
// shared modules of the folder) and name. A new catalogue shares the maps
// of the old one that it does not change.
type catalogue struct {
	folder map[string]map[string]*entry
	store  map[string]map[string]*entry
}

// lookup finds the module a tenant sees under a name: its uploaded one,
// else its folder one, else a shared one.
func (c *catalogue) lookup(tenant, name string) *entry {
	if e := c.store[tenant][name]; e != nil {
		return e
	}
	if e := c.folder[tenant][name]; e != nil {
		return e
	}
	return c.folder[""][name]
}

// get returns the entry of a key, or nil.
func (c *catalogue) get(k key) *entry {
	if k.source == sourceStore {
		return c.store[k.tenant][k.name]
	}
	return c.folder[k.tenant][k.name]
}

// with returns a copy of the catalogue with e under k; nil removes k.
func (c *catalogue) with(k key, e *entry) *catalogue {
	n := *c
	layer := &n.folder
	if k.source == sourceStore {
		layer = &n.store
	}
	*layer = maps.Clone(*layer)
	if *layer == nil {
		*layer = map[string]map[string]*entry{}
	}
	names := maps.Clone((*layer)[k.tenant])
	if names == nil {
		names = map[string]*entry{}
	}
	if e == nil {
		delete(names, k.name)
	} else {
		names[k.name] = e
	}
	if len(names) == 0 {
		delete(*layer, k.tenant)
	} else {
		(*layer)[k.tenant] = names
	}
	return &n
}

// keyEntry is an entry with its key.
type keyEntry struct {
	k key
	e *entry
}

// entries lists every entry, sorted by tenant, name and source.
func (c *catalogue) entries() []keyEntry {
	var all []keyEntry
	for s, layer := range map[source]map[string]map[string]*entry{sourceFolder: c.folder, sourceStore: c.store} {
		for tenant, names := range layer {
			for name, e := range names {
				all = append(all, keyEntry{key{s, tenant, name}, e})
			}
		}
	}
	slices.SortFunc(all, func(a, b keyEntry) int { return compareKeys(a.k, b.k) })
	return all
}

// slot is what this host knows of one module besides the versions that
// run: what its source asks for, and how the last activation went.
type slot struct {
	// desired and desiredShadow are the digests the source names.
	desired, desiredShadow string
	// ident is what is installed from the folder: the digests of the
	// module and its side file.
	ident string
	// refused remembers the versions (digests, or folder identities) that
	// were refused, with why, so that a rescan does not try them again.
	refused     map[string]error
	activating  bool
	failed      bool
	activatedAt time.Time
	lastError   string
	lastErrorAt time.Time
}

// lockKey serialises the activations of one module: reading its source
// and installing what it says happen under the lock, so that an older read
// never replaces a newer one.
func (h *Host) lockKey(k key) func() {
	h.mu.Lock()
	l := h.locks[k]
	if l == nil {
		l = &sync.Mutex{}
		h.locks[k] = l
	}
	h.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// slotOf returns the slot of k, making it; h.mu must be held.
func (h *Host) slotOf(k key) *slot {
	s := h.slots[k]
	if s == nil {
		s = &slot{refused: map[string]error{}}
		h.slots[k] = s
	}
	return s
}

// update changes the slot of k under h.mu and has the status reported.
func (h *Host) update(k key, f func(s *slot)) {
	h.mu.Lock()
	f(h.slotOf(k))
	h.mu.Unlock()
	h.statusChanged()
}

// refusedBefore returns why a version of k was refused, if it was.
func (h *Host) refusedBefore(k key, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.slots[k]; s != nil {
		return s.refused[id]
	}
	return nil
}

// failed records a failed activation of k: the previous version, if any,
// keeps serving. A refused version is remembered under id, unless id is
// "" (a failure to read it, which the next attempt may not meet).
func (h *Host) failed(k key, id string, err error) {
	h.update(k, func(s *slot) {
		s.activating, s.failed = false, true
		s.lastError, s.lastErrorAt = err.Error(), h.now()
		if id != "" {
			s.refused[id] = err
		}
	})
}

// statusChanged has the status reported soon.
func (h *Host) statusChanged() {
	select {
	case h.statusKick <- struct{}{}:
	default:
	}
}

// load reads, checks, compiles, instantiates, self-tests and pre-warms a
// version of a module, off the request path.
func (h *Host) load(ctx context.Context, k key, wasm []byte, cases *Cases) (*Module, error) {
	start := time.Now()
	m, err := Load(ctx, wasm, LoadOptions{Name: k.name, Tenant: k.tenant, Limits: h.limits, Cache: h.cache, Logger: h.log, Cases: cases})
	if err != nil {
		return nil, err
	}
	h.live.Add(1)
	if err := m.w.Prewarm(ctx); err != nil {
		h.closeModule(m)
		return nil, fmt.Errorf("module %q: pre-warming its instances: %w", k.name, err)
	}
	i := m.info
	h.log.InfoContext(ctx, "policy module version ready", "module", k.name, "tenant", k.tenant, "source", k.source,
		"digest", i.Digest, "hooks", i.Hooks, "size", i.Size, "self_tests", m.cases, "took_ms", time.Since(start).Milliseconds())
	return m, nil
}

// install swaps a catalogue with e under k in, and retires the modules of
// the replaced entry that e does not keep; nil removes k. Modules handed
// to a closed host are closed.
func (h *Host) install(k key, e *entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		old := h.cat.Load().get(k) // closed by Close
		for _, m := range e.modules() {
			if !old.holds(m) {
				h.closeModule(m) // never published: no call to wait for
			}
		}
		return
	}
	cat := h.cat.Load()
	old := cat.get(k)
	h.cat.Store(cat.with(k, e))
	for _, m := range old.modules() {
		if !e.holds(m) {
			h.retire(m)
		}
	}
}

// retire closes a module in the background, once the calls that found it
// before it was replaced have finished; h.mu must be held.
func (h *Host) retire(m *Module) {
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		h.closeModule(m)
	}()
}

// closeModule closes a module now, waiting for its calls.
func (h *Host) closeModule(m *Module) {
	if err := m.Close(context.Background()); err != nil {
		h.log.Warn("policy module: closing a version", "module", m.info.Name, "tenant", m.info.Tenant, "digest", m.info.Digest, "err", err.Error())
	}
	h.live.Add(-1)
}

// remove takes k out of the catalogue and forgets its status.
func (h *Host) remove(ctx context.Context, k key) bool {
	h.install(k, nil)
	h.mu.Lock()
	_, had := h.slots[k]
	delete(h.slots, k)
	h.mu.Unlock()
	h.statusChanged()
	if had {
		h.log.InfoContext(ctx, "policy module removed", "module", k.name, "tenant", k.tenant, "source", k.source)
	}
	return had
}

// auditEvent reports a module version to Config.Audit.
func (h *Host) auditEvent(ctx context.Context, typ string, k key, digest, actor, detail string) {
	if h.audit == nil {
		return
	}
	h.audit(ctx, engine.AuditEvent{
		Time: h.now(), Tenant: k.tenant, Type: typ, Actor: actor,
		Policy: &engine.PolicyVersion{Name: k.name, Digest: digest}, Detail: clip([]byte(detail)),
	})
}

// errNoStore answers the admin API's calls about uploaded modules on a
// host that has no store.
var errNoStore = errors.New("plugins: no policy store: uploaded modules are not supported")
