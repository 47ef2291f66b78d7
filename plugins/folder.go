package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/registrar-dev/registrar/engine"
)

// settle is how long the policy folder must stay quiet before a change is
// loaded, and how old a file must be before a rescan loads it: writes that
// follow each other closer than this are one change, so that a file being
// written is not read half-way. Writers that cannot promise that should
// write another name and rename it into place.
const settle = 150 * time.Millisecond

// casesSuffix ends the name of a module's side file of self-test cases.
const casesSuffix = ".cases.json"

// folderFile is a module file of the policy folder.
type folderFile struct {
	path  string // the module
	cases string // its side file of self-test cases; "" for none
}

// moduleFile reports whether a folder entry is a module file, and its name.
func moduleFile(e os.DirEntry) (string, bool) {
	name, ok := strings.CutSuffix(e.Name(), ".wasm")
	return name, ok && !e.IsDir() && engine.ValidModuleName(name)
}

// isDir reports whether an entry is a folder, or a link to one.
func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && fi.IsDir()
}

// policyFolder is the policy folder, Config.Dir, as a source of modules:
// it lists the module files and watches them.
type policyFolder struct {
	dir    string
	rescan time.Duration // how often a folder removed and made again is watched again
	log    *slog.Logger

	mu     sync.Mutex
	warned map[string]bool // entries already warned about
}

// newPolicyFolder is the policy folder dir, watched again every rescan.
func newPolicyFolder(dir string, rescan time.Duration, log *slog.Logger) *policyFolder {
	return &policyFolder{dir: dir, rescan: rescan, log: log, warned: map[string]bool{}}
}

// scan lists the modules of the policy folder. Tenants whose folder
// could not be read are in skipped: their modules stay as they are.
func (f *policyFolder) scan(ctx context.Context) (files map[key]folderFile, skipped map[string]bool, err error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, nil, err
	}
	files, skipped = map[key]folderFile{}, map[string]bool{}
	add := func(dir, tenant string, entries []os.DirEntry) {
		present := map[string]bool{}
		for _, e := range entries {
			present[e.Name()] = true
		}
		for _, e := range entries {
			if name, ok := moduleFile(e); ok {
				file := folderFile{path: filepath.Join(dir, e.Name())}
				if present[name+casesSuffix] {
					file.cases = filepath.Join(dir, name+casesSuffix)
				}
				files[key{sourceFolder, tenant, name}] = file
			}
		}
	}
	add(f.dir, "", entries)
	for _, e := range entries {
		if !isDir(f.dir, e) {
			continue
		}
		path := filepath.Join(f.dir, e.Name())
		if !engine.ValidTenantName(e.Name()) {
			f.mu.Lock()
			warned := f.warned[e.Name()]
			f.warned[e.Name()] = true
			f.mu.Unlock()
			if !warned {
				f.log.WarnContext(ctx, "policy folder: ignoring a folder that is not a tenant name", "path", path)
			}
			continue
		}
		sub, err := os.ReadDir(path)
		switch {
		case errors.Is(err, fs.ErrNotExist): // removed since: its modules go
		case err != nil:
			f.log.ErrorContext(ctx, "policy folder: cannot read a tenant's folder; its modules stay as they are", "path", path, "err", err.Error())
			skipped[e.Name()] = true
		default:
			add(path, e.Name(), sub)
		}
	}
	return files, skipped, nil
}

// syncFolder brings the folder's modules in line with the folder: new and
// changed files are loaded, removed ones unloaded. Files changed less than
// settle ago are left for later, and deferred says so, unless eager (at
// start). The error lists every refusal.
func (h *Host) syncFolder(ctx context.Context, eager bool) (deferred bool, err error) {
	files, skipped, err := h.folder.scan(ctx)
	if err != nil {
		return false, err
	}
	h.mu.Lock()
	keys := slices.Collect(maps.Keys(files))
	for k := range h.slots {
		if _, ok := files[k]; !ok && k.source == sourceFolder && !skipped[k.tenant] {
			keys = append(keys, k)
		}
	}
	h.mu.Unlock()
	slices.SortFunc(keys, compareKeys)
	var errs []error
	for _, k := range keys {
		f, ok := files[k]
		later, err := h.syncFolderKey(ctx, k, f, ok, eager)
		deferred = deferred || later
		if err != nil {
			errs = append(errs, err)
		}
	}
	return deferred, errors.Join(errs...)
}

// syncFolderKey brings one module in line with its file.
func (h *Host) syncFolderKey(ctx context.Context, k key, f folderFile, present, eager bool) (deferred bool, err error) {
	unlock := h.lockKey(k)
	defer unlock()
	if !present {
		h.removeFolder(ctx, k)
		return false, nil
	}
	if !eager && f.unsettled() {
		return true, nil // perhaps still being written
	}
	wasm, cases, err := f.read()
	if errors.Is(err, fs.ErrNotExist) {
		h.removeFolder(ctx, k)
		return false, nil
	}
	if err != nil {
		h.failed(k, "", err)
		h.log.ErrorContext(ctx, "policy folder: cannot read a module; the previous version, if any, keeps serving", "module", k.name, "tenant", k.tenant, "err", err.Error())
		return false, err
	}
	digest := hexSum(wasm)
	id := digest
	if cases != nil {
		id += "+" + hexSum(cases)
	}
	if h.folderSettled(k, id, digest) {
		return false, nil
	}
	h.update(k, func(s *slot) { s.desired, s.activating = digest, true })
	m, err := f.load(ctx, h, k, wasm, cases)
	if err != nil {
		h.failed(k, id, err)
		h.log.ErrorContext(ctx, "policy module refused; the previous version, if any, keeps serving", "module", k.name, "tenant", k.tenant,
			"source", k.source, "digest", digest, "err", err.Error())
		h.auditEvent(ctx, engine.AuditPolicyRefused, k, digest, "system", fmt.Sprintf("policy folder, replica %s: %v", h.replica, err))
		return false, err
	}
	h.install(k, &entry{active: m})
	h.update(k, func(s *slot) {
		s.ident, s.activating, s.failed, s.activatedAt = id, false, false, h.now()
		clear(s.refused)
	})
	h.log.InfoContext(ctx, "policy module activated", "module", k.name, "tenant", k.tenant, "source", k.source, "digest", digest, "path", f.path)
	h.auditEvent(ctx, engine.AuditPolicyLoaded, k, digest, "system", fmt.Sprintf("loaded from the policy folder (%s), replica %s", f.path, h.replica))
	return false, nil
}

// unsettled reports whether the module's file or its cases changed too
// recently to be read: they may still be being written.
func (f folderFile) unsettled() bool {
	return recent(f.path) || (f.cases != "" && recent(f.cases))
}

// read reads the module's file and its cases (nil: none, or the cases file
// is gone). An error that wraps fs.ErrNotExist means the module's file is
// gone.
func (f folderFile) read() (wasm, cases []byte, err error) {
	if wasm, err = os.ReadFile(f.path); err != nil {
		return nil, nil, err
	}
	if f.cases == "" {
		return wasm, nil, nil
	}
	cases, err = os.ReadFile(f.cases)
	if errors.Is(err, fs.ErrNotExist) {
		return wasm, nil, nil
	}
	return wasm, cases, err
}

// load parses the module's cases, if any, and loads the module with them.
func (f folderFile) load(ctx context.Context, h *Host, k key, wasm, cases []byte) (*Module, error) {
	var cs *Cases
	if cases != nil {
		var err error
		if cs, err = ParseCases(cases); err != nil {
			return nil, fmt.Errorf("%s: %w", f.cases, err)
		}
	}
	m, err := h.load(ctx, k, wasm, cs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	return m, nil
}

// folderSettled reports whether the folder's version id of a module needs
// no activation: it runs already, or it was refused already (the log said
// why, the status says it again). Either way the status now desires
// digest.
func (h *Host) folderSettled(k key, id, digest string) bool {
	h.mu.Lock()
	s := h.slotOf(k)
	installed := s.ident == id && h.cat.Load().get(k) != nil
	refused := s.refused[id]
	changed := s.desired != digest
	h.mu.Unlock()
	switch {
	case installed:
		if changed { // back to the version that runs, after a refused one
			h.update(k, func(s *slot) { s.desired, s.failed, s.activating = digest, false, false })
		}
		return true
	case refused != nil:
		if changed {
			h.update(k, func(s *slot) { s.desired, s.failed, s.lastError = digest, true, refused.Error() })
		}
		return true
	}
	return false
}

// removeFolder unloads a module whose file is gone.
func (h *Host) removeFolder(ctx context.Context, k key) {
	var digest string
	if e := h.cat.Load().get(k); e != nil {
		digest = e.active.info.Digest
	}
	if h.remove(ctx, k) && digest != "" {
		h.auditEvent(ctx, engine.AuditPolicyLoaded, k, digest, "system", "removed from the policy folder, replica "+h.replica)
	}
}

// recent reports whether a file changed less than settle ago.
func recent(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	age := time.Since(fi.ModTime())
	return age >= 0 && age < settle
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// watch watches the policy folder and its tenants' folders, and calls
// changed, naming no module, once a burst of changes has settled. It
// returns when ctx is done, or at once if the folder cannot be watched.
func (f *policyFolder) watch(ctx context.Context, changed func(keys ...key)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	if err := f.addWatches(w); err != nil {
		return err
	}
	changed() // what changed before the watch began
	settled := time.NewTimer(settle)
	settled.Stop()
	// A folder removed and made again is watched again at the next tick.
	rewatch := time.NewTicker(f.rescan)
	defer rewatch.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rewatch.C:
			_ = f.addWatches(w)
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			settled.Reset(settle)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			f.log.WarnContext(ctx, "policy folder: watcher error; rescanning", "err", err.Error())
			settled.Reset(settle)
		case <-settled.C:
			// Tenant folders made since are watched before they are read,
			// so that no write into them goes unseen.
			if err := f.addWatches(w); err != nil {
				f.log.WarnContext(ctx, "policy folder: watcher", "err", err.Error())
			}
			changed()
		}
	}
}

// addWatches watches the policy folder and each tenant's folder in it.
func (f *policyFolder) addWatches(w *fsnotify.Watcher) error {
	if err := w.Add(f.dir); err != nil {
		return fmt.Errorf("watch %s: %w", f.dir, err)
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if isDir(f.dir, e) && engine.ValidTenantName(e.Name()) {
			_ = w.Add(filepath.Join(f.dir, e.Name())) // gone since, or a limit: the rescan still sees it
		}
	}
	return nil
}
