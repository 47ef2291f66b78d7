package plugins

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// moduleSource is where modules come from: the policy folder (folder.go)
// or the store of uploaded versions (store.go). A source only reads and
// watches; it knows nothing of the host. The host asks it for its modules
// and activates them (the lifecycle in folder.go, store.go and reload.go):
// what a source knows flows one way, from the source to the host. Which
// source's module of a name serves a tenant is the catalogue's business
// (catalogue.go), not the source's.
type moduleSource interface {
	// watch reports changes until ctx is done: changed with the keys of
	// modules that may have changed, or with none when any may have (at
	// the start of the watch, and whenever changes may have gone unseen).
	// It returns an error at once when the source cannot be watched.
	watch(ctx context.Context, changed func(keys ...key)) error
}

var (
	_ moduleSource = (*policyFolder)(nil)
	_ moduleSource = storeSource{}
)

// sourceLoop is how the host keeps the modules of one source in line with
// it: what it does at start, at each change and at each rescan.
type sourceLoop struct {
	name string // for the log: "policy folder", "policy store"
	src  moduleSource
	// watched says whether Run watches src: always the store, the folder
	// with Config.Watch.
	watched bool
	// load brings every module in line when the host starts; an error
	// refuses the host.
	load func(ctx context.Context) error
	// syncAll brings every module in line; deferred says that some were
	// left for later, to be looked at again once they have settled.
	syncAll func(ctx context.Context) (deferred bool, err error)
	// syncKeys brings the modules keys in line, logging each failure.
	syncKeys func(ctx context.Context, keys []key)
	// retrySoon, when set, says whether a failed syncAll is tried again
	// soon (retryFirst, doubling up to retryMax) rather than at the next
	// rescan: the store until it has been read once, so that a replica
	// started before its Redis is ready turns ready as soon as it is.
	retrySoon func() bool
}

// sourceLoops are the host's sources of modules, from its configuration.
func (h *Host) sourceLoops() []sourceLoop {
	var ls []sourceLoop
	if h.folder != nil {
		ls = append(ls, sourceLoop{
			name: "policy folder", src: h.folder, watched: h.watch,
			// The folder is configuration: a module that fails to load at
			// start fails the host.
			load: func(ctx context.Context) error {
				if _, err := h.syncFolder(ctx, true); err != nil {
					return fmt.Errorf("plugins: policy folder %s: %w", h.folder.dir, err)
				}
				return nil
			},
			syncAll: func(ctx context.Context) (bool, error) { return h.syncFolder(ctx, false) },
			// The folder reports no single module: a change is a rescan.
			syncKeys: func(ctx context.Context, _ []key) {},
		})
	}
	if h.store != nil {
		ls = append(ls, sourceLoop{
			name: "policy store", src: h.uploads, watched: true,
			// What fails to load at start is reported, and retried at the
			// next rescan.
			load: func(ctx context.Context) error {
				if err := h.syncStore(ctx); err != nil {
					h.log.ErrorContext(ctx, "policy store: uploaded modules not loaded; retrying at the next rescan", "err", err.Error())
				}
				return nil
			},
			syncAll:   func(ctx context.Context) (bool, error) { return false, h.syncStore(ctx) },
			syncKeys:  h.syncStoreKeys,
			retrySoon: func() bool { return !h.readStore() },
		})
	}
	return ls
}

// pending is what a source reported changed and its worker has not yet
// synced: modules by key, and whether any may have changed. The watcher
// fills it and the worker empties it, so that a slow activation never
// holds up the watcher and repeated changes of one module coalesce.
type pending struct {
	mu   sync.Mutex
	keys map[key]bool
	all  bool
	kick chan struct{}
}

func newPending() *pending { return &pending{keys: map[key]bool{}, kick: make(chan struct{}, 1)} }

// add records keys, or that any module may have changed when there are
// none, and wakes the worker.
func (p *pending) add(keys ...key) {
	p.mu.Lock()
	for _, k := range keys {
		p.keys[k] = true
	}
	p.all = p.all || len(keys) == 0
	p.mu.Unlock()
	notify(p.kick)
}

// take empties the set: the keys in order, and whether any module may
// have changed.
func (p *pending) take() (keys []key, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.keys {
		keys = append(keys, k)
	}
	clear(p.keys)
	all, p.all = p.all, false
	slices.SortFunc(keys, compareKeys)
	return keys, all
}
