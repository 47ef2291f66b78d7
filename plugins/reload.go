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
	if h.dir != "" {
		kick := make(chan struct{}, 1)
		changed := func() {
			select {
			case kick <- struct{}{}:
			default:
			}
		}
		if h.watch {
			wg.Go(func() {
				if err := h.watchFolder(ctx, changed); err != nil {
					h.log.ErrorContext(ctx, "policy folder: not watched; changes are seen at each rescan", "err", err.Error(), "rescan", h.rescan)
				}
			})
		}
		wg.Go(func() {
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
		})
	}
	if h.store != nil {
		p := newPending()
		resync := make(chan struct{}, 1)
		wg.Go(func() {
			h.watchStore(ctx, p.add, func() {
				select {
				case resync <- struct{}{}:
				default:
				}
			})
		})
		wg.Go(func() {
			tick := time.NewTicker(h.rescan)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-p.kick:
					for _, k := range p.take() {
						if err := h.syncStoreKey(ctx, k, nil, false); err != nil && ctx.Err() == nil {
							h.log.ErrorContext(ctx, "policy store: change not activated", "module", k.name, "tenant", k.tenant, "err", err.Error())
						}
					}
					continue
				case <-resync:
				case <-tick.C:
				}
				if err := h.syncStore(ctx); err != nil && ctx.Err() == nil {
					h.log.ErrorContext(ctx, "policy store: not every change was activated", "err", err.Error())
				}
			}
		})
		wg.Go(func() {
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
		})
	}
	wg.Wait()
	return nil
}
