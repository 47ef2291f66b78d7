package plugins

import (
	"context"
	"fmt"
	"sync"
)

// moduleSource is where modules come from: the policy folder (folder.go)
// or the store of uploaded versions (store.go). The host keeps the
// modules of each source in line with it; which source's module of a name
// serves a tenant is the catalogue's business (catalogue.go), not the
// source's.
type moduleSource interface {
	// load brings every module of the source in line when the host
	// starts; an error refuses the host.
	load(ctx context.Context) error
	// run keeps the modules in line until ctx is done, on workers it
	// starts on wg.
	run(ctx context.Context, wg *sync.WaitGroup)
}

var (
	_ moduleSource = folderSource{}
	_ moduleSource = storeSource{}
)

// folderSource is the policy folder, Config.Dir: configuration, so a
// module that fails to load at start fails the host.
type folderSource struct{ h *Host }

func (s folderSource) load(ctx context.Context) error {
	if _, err := s.h.syncFolder(ctx, true); err != nil {
		return fmt.Errorf("plugins: policy folder %s: %w", s.h.dir, err)
	}
	return nil
}

func (s folderSource) run(ctx context.Context, wg *sync.WaitGroup) { s.h.runFolder(ctx, wg) }

// storeSource is the store of uploaded versions, Config.Store: what fails
// to load at start is reported, and retried at the next rescan.
type storeSource struct{ h *Host }

func (s storeSource) load(ctx context.Context) error {
	if err := s.h.syncStore(ctx); err != nil {
		s.h.log.ErrorContext(ctx, "policy store: uploaded modules not loaded; retrying at the next rescan", "err", err.Error())
	}
	return nil
}

func (s storeSource) run(ctx context.Context, wg *sync.WaitGroup) { s.h.runStore(ctx, wg) }

// moduleSources are the host's sources of modules, from its configuration.
func (h *Host) moduleSources() []moduleSource {
	var ss []moduleSource
	if h.dir != "" {
		ss = append(ss, folderSource{h})
	}
	if h.store != nil {
		ss = append(ss, storeSource{h})
	}
	return ss
}
