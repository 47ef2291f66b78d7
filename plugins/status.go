package plugins

import (
	"context"
	"fmt"
	"slices"

	"github.com/registrar-dev/registrar/engine"
)

// The states of a module in PolicyStatus.
const (
	stateActive     = "active"
	stateActivating = "activating"
	stateFailed     = "failed"
)

// Status describes every module of this replica: each module its sources
// name or that runs, by tenant, name and source.
func (h *Host) Status() []engine.PolicyStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	cat := h.cat.Load()
	keys := make([]key, 0, len(h.slots))
	for k := range h.slots {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	out := make([]engine.PolicyStatus, 0, len(keys))
	for _, k := range keys {
		s := h.slots[k]
		st := engine.PolicyStatus{
			Tenant: k.tenant, Name: k.name, Source: string(k.source), Desired: s.desired, State: stateActive,
			ActivatedAt: s.activatedAt, LastError: s.lastError, LastErrorAt: s.lastErrorAt,
		}
		if e := cat.get(k); e != nil {
			st.Active = e.active.info.Digest
			if e.shadow != nil {
				st.Shadow = e.shadow.info.Digest
			}
		}
		switch {
		case s.activating:
			st.State = stateActivating
		case s.failed:
			st.State = stateFailed
		}
		out = append(out, st)
	}
	return out
}

// replicaStatus is this replica's status as the store keeps it.
func (h *Host) replicaStatus() *engine.ReplicaStatus {
	return &engine.ReplicaStatus{Replica: h.replica, UpdatedAt: h.now(), Policies: h.Status()}
}

// Statuses returns the status of every replica that reported within its
// time to live, sorted by replica; without a store, this replica's alone.
func (h *Host) Statuses(ctx context.Context) ([]*engine.ReplicaStatus, error) {
	if h.store == nil {
		return []*engine.ReplicaStatus{h.replicaStatus()}, nil
	}
	ss, err := h.store.ReplicaStatuses(ctx)
	if err != nil {
		return nil, fmt.Errorf("plugins: policy store: %w", err)
	}
	return ss, nil
}

// Ready returns nil once every module the sources name has an active
// version (a version that failed after an earlier one is not a reason:
// the earlier one serves), else an error naming the first that has none,
// or saying that the store has not been read yet.
func (h *Host) Ready() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.store != nil && !h.storeRead {
		return fmt.Errorf("the uploaded policy modules have not been read from the store yet")
	}
	cat := h.cat.Load()
	keys := make([]key, 0, len(h.slots))
	for k := range h.slots {
		if cat.get(k) == nil {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	k := slices.MinFunc(keys, compareKeys)
	s := h.slots[k]
	if s.activating {
		return fmt.Errorf("policy module %s is being activated", k)
	}
	return fmt.Errorf("policy module %s has no active version: %s", k, s.lastError)
}

// reportStatus puts this replica's status into the store.
func (h *Host) reportStatus(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, h.statusEvery)
	defer cancel()
	if err := h.store.PutReplicaStatus(ctx, h.replicaStatus(), 3*h.statusEvery); err != nil && ctx.Err() == nil {
		h.log.WarnContext(ctx, "policy store: replica status not reported", "err", err.Error())
	}
}
