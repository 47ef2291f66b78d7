package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultWaitTimeout bounds the replication wait of each write when
// Config.WaitReplicas is set and Config.WaitTimeout is zero.
const DefaultWaitTimeout = time.Second

// ErrNotReplicated is wrapped by the error of a write that Redis applied
// but fewer than Config.WaitReplicas replicas acknowledged within
// Config.WaitTimeout. Such an error also wraps engine.ErrUnavailable (the
// client is answered 503 with Retry-After): the write may still be there,
// and may be lost in a failover.
var ErrNotReplicated = errors.New("not acknowledged by enough replicas in time")

// The outcomes of a replication wait, ReplicationWait.Outcome.
const (
	// WaitAcked: enough replicas acknowledged the write.
	WaitAcked = "acked"
	// WaitShort: fewer replicas than Config.WaitReplicas acknowledged it
	// within Config.WaitTimeout; the write was not acknowledged to the
	// client.
	WaitShort = "short"
	// WaitFailed: the WAIT itself failed (the connection broke, the node is
	// no longer a primary); the write was not acknowledged to the client.
	WaitFailed = "failed"
)

// ReplicationWait is one write's wait for its replicas, as reported to
// Config.ObserveWait.
type ReplicationWait struct {
	// Duration is the time of the write and its WAIT together: they are
	// sent in one round trip.
	Duration time.Duration
	// Outcome is WaitAcked, WaitShort or WaitFailed.
	Outcome string
}

// waitKey is the context key that marks a write as one that waits for
// replicas; its value is the *replicationWaiter.
type waitKey struct{}

// replicationWaiter makes the writes made under a context that durable
// marked wait for Redis to replicate them: on the connection that sent the
// write, in the same round trip, it sends WAIT numreplicas timeout, which
// counts the replicas that acknowledged that connection's writes. WAIT
// must follow the write on its connection, so it is a hook on the client
// that sends the write to its node (on Redis Cluster, each node's client,
// after go-redis has chosen the node and followed MOVED and ASK; a WAIT
// through the cluster client would go to a random node, or to every
// shard).
type replicationWaiter struct {
	replicas int
	timeout  time.Duration
	observe  func(ReplicationWait)
}

// durable returns ctx marked so that a write made under it waits for its
// replicas, when Config.WaitReplicas is set; else ctx.
func (s *Store) durable(ctx context.Context) context.Context {
	if s.waiter == nil {
		return ctx
	}
	return context.WithValue(ctx, waitKey{}, s.waiter)
}

// hookInto adds the store's hooks to rdb: the replication wait of cfg,
// and on Redis Cluster the slot map reloads.
func (s *Store) hookInto(rdb redis.UniversalClient, cfg Config) error {
	if err := s.setWaiter(rdb, cfg); err != nil {
		return err
	}
	if c, ok := rdb.(*redis.ClusterClient); ok {
		refreshSlotMapOnErrors(c)
	}
	return nil
}

// setWaiter checks the replication wait of cfg and hooks it into rdb.
func (s *Store) setWaiter(rdb redis.UniversalClient, cfg Config) error {
	switch {
	case cfg.WaitReplicas < 0:
		return fmt.Errorf("redisstore: Config.WaitReplicas %d is negative", cfg.WaitReplicas)
	case cfg.WaitTimeout < 0:
		return fmt.Errorf("redisstore: Config.WaitTimeout %v is negative", cfg.WaitTimeout)
	case cfg.WaitReplicas == 0:
		return nil
	}
	w := &replicationWaiter{replicas: cfg.WaitReplicas, timeout: cfg.WaitTimeout, observe: cfg.ObserveWait}
	if w.timeout == 0 {
		w.timeout = DefaultWaitTimeout
	}
	if w.timeout < time.Millisecond {
		return fmt.Errorf("redisstore: Config.WaitTimeout %v: want at least 1ms (WAIT 0 would wait for ever)", cfg.WaitTimeout)
	}
	if w.timeout >= s.timeout {
		return fmt.Errorf("redisstore: Config.WaitTimeout %v must be shorter than the store timeout %v", w.timeout, s.timeout)
	}
	if read := readTimeout(rdb); read > 0 && read <= w.timeout {
		return fmt.Errorf("redisstore: the Redis client's read timeout %v must be longer than Config.WaitTimeout %v", read, w.timeout)
	}
	if err := installWaiter(rdb, w); err != nil {
		return err
	}
	s.waiter = w
	return nil
}

// readTimeout is rdb's socket read timeout, or 0 when it has none or it
// cannot be told.
func readTimeout(rdb redis.UniversalClient) time.Duration {
	switch c := rdb.(type) {
	case *redis.Client:
		return c.Options().ReadTimeout
	case *redis.ClusterClient:
		return c.Options().ReadTimeout
	}
	return 0
}

// installWaiter hooks w into rdb: into each node's client on Redis Cluster,
// else into rdb itself.
func installWaiter(rdb redis.UniversalClient, w *replicationWaiter) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		// Nodes made before this hook would send writes without their
		// wait: Config says the client must not have been used.
		c.OnNewNode(func(node *redis.Client) { node.AddHook(&waitHook{w: w, rdb: node}) })
	case *redis.Client:
		c.AddHook(&waitHook{w: w, rdb: c})
	default:
		return fmt.Errorf("redisstore: Config.WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", rdb)
	}
	return nil
}

// waitHook is the go-redis hook of a replicationWaiter on the client of
// one server.
type waitHook struct {
	w   *replicationWaiter
	rdb *redis.Client
}

// DialHook implements redis.Hook.
func (h *waitHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// waitedCommands are the commands of the store's writes: under a marked
// context, only they wait. The other commands sent under it (reads, and
// those go-redis sends on its own: HELLO, AUTH, SELECT on a new
// connection, CLUSTER SLOTS, COMMAND) do not.
var waitedCommands = map[string]bool{
	"eval": true, "evalsha": true, "set": true, "del": true, "unlink": true, "zadd": true, "zrem": true,
}

// waits reports whether cmds, sent under ctx, wait for replicas.
func waits(ctx context.Context, cmds ...redis.Cmder) bool {
	if ctx.Value(waitKey{}) == nil {
		return false
	}
	for _, c := range cmds {
		if waitedCommands[c.Name()] {
			return true
		}
	}
	return false
}

// ProcessHook implements redis.Hook: a marked write is sent as a pipeline
// of one, to which ProcessPipelineHook adds the WAIT.
func (h *waitHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !waits(ctx, cmd) {
			return next(ctx, cmd)
		}
		pipe := h.rdb.Pipeline()
		_ = pipe.Process(ctx, cmd)
		_, _ = pipe.Exec(ctx)
		return cmd.Err()
	}
}

// ProcessPipelineHook implements redis.Hook: a marked pipeline (a command
// that ProcessHook turned into one, or go-redis's ASKING pipeline) gets a
// WAIT after its commands; when the commands succeeded but the WAIT
// counted too few replicas or failed, their error is set to say so.
func (h *waitHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !waits(ctx, cmds...) {
			return next(ctx, cmds)
		}
		start := time.Now()
		wait := redis.NewIntCmd(ctx, "wait", h.w.replicas, h.w.timeout.Milliseconds())
		err := next(ctx, append(cmds[:len(cmds):len(cmds)], wait))
		for _, c := range cmds {
			if c.Err() != nil {
				return err // the write failed: its own error says why
			}
		}
		outcome, werr := WaitAcked, error(nil)
		switch n, err := wait.Result(); {
		case err != nil:
			// %v, not %w: go-redis must not take the WAIT's error (a
			// broken connection) for the write's and send the write again.
			outcome, werr = WaitFailed, fmt.Errorf("redisstore: replication wait: %w: %v", ErrNotReplicated, err)
		case n < int64(h.w.replicas):
			outcome, werr = WaitShort, fmt.Errorf("redisstore: %w: %d of %d replicas within %v", ErrNotReplicated, n, h.w.replicas, h.w.timeout)
		}
		if h.w.observe != nil {
			h.w.observe(ReplicationWait{Duration: time.Since(start), Outcome: outcome})
		}
		if werr != nil {
			for _, c := range cmds {
				c.SetErr(werr)
			}
		}
		return werr
	}
}
