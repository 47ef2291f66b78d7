package plugins

import (
	"context"
	"sync"
	"time"
)

// Run keeps the modules in line with their sources until ctx is done: it
// watches the policy folder (Config.Watch) and the store's changes, rescans
// both every Config.Rescan, and reports this replica's status to the store
// every Config.StatusEvery. Each source has one worker, so activations of
// one source run one after the other, off the request path. Run returns
// nil when ctx is done; call Close after.
func (h *Host) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, src := range h.sources {
		src.run(ctx, &wg)
	}
	wg.Wait()
	return nil
}

// notify wakes the worker that waits on kick, unless it has a wake-up
// pending already.
func notify(kick chan<- struct{}) {
	select {
	case kick <- struct{}{}:
	default:
	}
}

// runFolder starts the policy folder's watcher (with Config.Watch) and its
// worker on wg.
func (h *Host) runFolder(ctx context.Context, wg *sync.WaitGroup) {
	kick := make(chan struct{}, 1)
	changed := func() { notify(kick) }
	if h.watch {
		wg.Go(func() {
			if err := h.watchFolder(ctx, changed); err != nil {
				h.log.ErrorContext(ctx, "policy folder: not watched; changes are seen at each rescan", "err", err.Error(), "rescan", h.rescan)
			}
		})
	}
	wg.Go(func() { h.folderWorker(ctx, kick, changed) })
}

// folderWorker syncs the policy folder at each kick and each rescan until
// ctx is done; a file that changed too recently is looked at again, through
// changed, once it has settled.
func (h *Host) folderWorker(ctx context.Context, kick <-chan struct{}, changed func()) {
	tick := time.NewTicker(h.rescan)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-tick.C:
		}
		deferred, err := h.syncFolder(ctx, false)
		if err != nil && ctx.Err() == nil {
			h.log.ErrorContext(ctx, "policy folder: not every change was activated", "err", err.Error())
		}
		if deferred { // a file changed too recently: look again once it has settled
			time.AfterFunc(settle, changed)
		}
	}
}

// runStore starts the store's watcher, its worker and the status reporter
// on wg.
func (h *Host) runStore(ctx context.Context, wg *sync.WaitGroup) {
	p := newPending()
	resync := make(chan struct{}, 1)
	wg.Go(func() { h.watchStore(ctx, p.add, func() { notify(resync) }) })
	wg.Go(func() { h.storeWorker(ctx, p, resync) })
	wg.Go(func() { h.statusWorker(ctx) })
}

// storeWorker syncs the modules the watcher reports changed as they come,
// and every module of the store at each resync and each rescan, until ctx
// is done.
func (h *Host) storeWorker(ctx context.Context, p *pending, resync <-chan struct{}) {
	tick := time.NewTicker(h.rescan)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			h.syncStoreKeys(ctx, p.take())
			continue
		case <-resync:
		case <-tick.C:
		}
		if err := h.syncStore(ctx); err != nil && ctx.Err() == nil {
			h.log.ErrorContext(ctx, "policy store: not every change was activated", "err", err.Error())
		}
	}
}

// syncStoreKeys syncs the store's modules keys, one after the other,
// logging each failure.
func (h *Host) syncStoreKeys(ctx context.Context, keys []key) {
	for _, k := range keys {
		if err := h.syncStoreKey(ctx, k, nil, false); err != nil && ctx.Err() == nil {
			h.log.ErrorContext(ctx, "policy store: change not activated", "module", k.name, "tenant", k.tenant, "err", err.Error())
		}
	}
}

// statusWorker reports this replica's status to the store now, every
// Config.StatusEvery and at each status kick, until ctx is done.
func (h *Host) statusWorker(ctx context.Context) {
	tick := time.NewTicker(h.statusEvery)
	defer tick.Stop()
	for {
		h.reportStatus(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-h.statusKick:
		}
	}
}
