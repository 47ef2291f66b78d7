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
	for _, l := range h.loops {
		h.runSource(ctx, &wg, l)
	}
	if h.store != nil {
		wg.Go(func() { h.statusWorker(ctx) })
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

// runSource starts the source's watcher (if it is watched) and its worker
// on wg.
func (h *Host) runSource(ctx context.Context, wg *sync.WaitGroup, l sourceLoop) {
	p := newPending()
	if l.watched {
		wg.Go(func() {
			if err := l.src.watch(ctx, p.add); err != nil {
				h.log.ErrorContext(ctx, l.name+": not watched; changes are seen at each rescan", "err", err.Error(), "rescan", h.rescan)
			}
		})
	}
	wg.Go(func() { h.sourceWorker(ctx, l, p) })
}

// sourceWorker syncs the modules the watcher reports changed as they come,
// and every module of the source when any may have changed and at each
// rescan, until ctx is done. Modules that changed too recently are looked
// at again once they have settled.
func (h *Host) sourceWorker(ctx context.Context, l sourceLoop, p *pending) {
	tick := time.NewTicker(h.rescan)
	defer tick.Stop()
	var retry time.Duration                  // the pause before the next early retry
	if l.retrySoon != nil && l.retrySoon() { // the load at start failed
		time.AfterFunc(retryFirst, func() { p.add() })
	}
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
			var keys []key
			keys, all = p.take()
			l.syncKeys(ctx, keys)
		case <-tick.C:
			all = true
		}
		if !all {
			continue
		}
		deferred, err := l.syncAll(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.ErrorContext(ctx, l.name+": not every change was activated", "err", err.Error())
		}
		if deferred { // a module changed too recently: look again once it has settled
			time.AfterFunc(settle, func() { p.add() })
		}
		if err != nil && l.retrySoon != nil && l.retrySoon() {
			retry = min(max(2*retry, retryFirst), retryMax, h.rescan)
			time.AfterFunc(retry, func() { p.add() })
		} else {
			retry = 0
		}
	}
}

// retryFirst is the first pause before a failed sync is tried again early
// (sourceLoop.retrySoon); it doubles up to retryMax (or the rescan, if
// shorter), so that a store that is ready is read within a second.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = time.Second
)

// readStore reports whether the store's list of modules has been read.
func (h *Host) readStore() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.storeRead
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
