package redisstore

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// batcher sends the commands that concurrent store calls make at the same
// time in one pipeline: one write and one read system call for the batch
// instead of one of each per command, which is most of what a request
// costs the server when Redis is near (RATIONALE.md, "Commands of
// concurrent requests share pipelines").
//
// It is a go-redis process hook on the Store's client, so every command
// the Store sends goes through it and the commands of other users of a
// shared client do not: it batches only commands whose context it marked
// (Store.op), and not the writes that wait for replicas (durable). Up to max batches are in flight at once; a command that
// finds them all in flight waits in the queue, and the next batch takes
// the whole queue. A batch runs on the goroutine of one of its callers
// (the first, or the one a finishing batch hands it to), so the batcher
// has no goroutine of its own. A batch of one command runs as it would
// without the batcher.
//
// A caller waits no longer than its context allows: a command not yet
// taken into a batch is withdrawn and fails with the context's error. A
// command already sent is waited for; its batch is bounded by the latest
// deadline among its callers' contexts, which in the Store are all one
// Config.Timeout from when they were sent.
//
// go-redis 9.23's automatic pipeliner does the same, but does not honour
// a command's context once the command is queued (a silent Redis holds
// every caller for the client's read timeout and retries, and then for
// the next batch): the Store's contract bounds every call by
// Config.Timeout.
type batcher struct {
	rdb redis.UniversalClient
	max int

	mu      sync.Mutex
	running int     // batches in flight
	queue   []*call // waiting for a batch
}

// call is one command in a batcher.
type call struct {
	ctx  context.Context
	cmd  redis.Cmder
	next redis.ProcessHook
	// state moves once from pending to withdrawn (by its caller, whose
	// context ended first), to taken (into a batch, which then owns cmd
	// until done is closed) or to leading (chosen to run a batch, sent on
	// lead).
	state atomic.Int32
	done  chan struct{}
	lead  chan []*call
}

const (
	callPending int32 = iota
	callWithdrawn
	callTaken
	callLeading
)

// batchMarker is the context key of the commands a batcher batches.
type batchMarker struct{ b *batcher }

// newBatcher returns a batcher of rdb's commands with at most max
// batches in flight. It batches nothing until it is added to rdb's hooks.
func newBatcher(rdb redis.UniversalClient, max int) *batcher {
	return &batcher{rdb: rdb, max: max}
}

// mark returns ctx with b's mark: b batches the commands sent with it.
func (b *batcher) mark(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchMarker{b}, true)
}

// unmark returns ctx without b's mark.
func unmark(ctx context.Context, b *batcher) context.Context {
	return context.WithValue(ctx, batchMarker{b}, nil)
}

// DialHook implements redis.Hook; dialing is not changed.
func (b *batcher) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return next(ctx, network, addr)
	}
}

// ProcessPipelineHook implements redis.Hook; pipelines are not changed.
func (b *batcher) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// ProcessHook implements redis.Hook: it batches the commands sent with b's
// mark.
func (b *batcher) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if ctx.Value(batchMarker{b}) != true || ctx.Value(waitKey{}) != nil {
			// A write that waits for replicas (Config.WaitReplicas) goes
			// alone: the WAIT that follows it on its connection would
			// otherwise count, and fail, the commands of other calls.
			return next(ctx, cmd)
		}
		return b.do(&call{ctx: ctx, cmd: cmd, next: next})
	}
}

// do sends c's command in a batch and returns its error.
func (b *batcher) do(c *call) error {
	b.mu.Lock()
	if b.running < b.max {
		b.running++
		b.mu.Unlock()
		c.state.Store(callLeading)
		b.run([]*call{c})
		return c.cmd.Err()
	}
	// Only a queued call waits: its channels are made here, before
	// another goroutine can see it.
	c.done, c.lead = make(chan struct{}), make(chan []*call, 1)
	b.queue = append(b.queue, c)
	b.mu.Unlock()
	select {
	case batch := <-c.lead:
		b.run(batch)
		return c.cmd.Err()
	case <-c.done:
		return c.cmd.Err()
	case <-c.ctx.Done():
	}
	if c.state.CompareAndSwap(callPending, callWithdrawn) {
		err := context.Cause(c.ctx)
		c.cmd.SetErr(err)
		return err
	}
	// Taken into a batch, or chosen to run one, just as the context ended.
	select {
	case batch := <-c.lead:
		b.run(batch)
	case <-c.done:
	}
	return c.cmd.Err()
}

// run executes batch, whose first call is the caller's and leading, and
// then hands its place to the next queued call, if any.
func (b *batcher) run(batch []*call) {
	b.exec(batch)
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		next := b.queue
		b.queue = nil
		b.mu.Unlock()
		for i, c := range next {
			if c.state.CompareAndSwap(callPending, callLeading) {
				c.lead <- next[i:]
				return
			}
		}
		// Every queued caller withdrew: look again.
	}
}

// exec sends the commands of batch that are still wanted (the first call
// is leading; the others are taken unless withdrawn) and closes their
// done channels. A batch of one is sent as if there were no batcher.
func (b *batcher) exec(batch []*call) {
	taken := batch[:1]
	for _, c := range batch[1:] {
		if c.state.CompareAndSwap(callPending, callTaken) {
			taken = append(taken, c)
		}
	}
	if len(taken) == 1 {
		// Without the mark: what the command sends on its own (the
		// HELLO of a new connection) must not wait for a batch.
		// The hook's caller (Client.Process) gives the command the error
		// its hooks return, as the pipeline gives each of its commands.
		c := taken[0]
		c.cmd.SetErr(c.next(unmark(c.ctx, b), c.cmd))
		return
	}
	ctx, cancel := batchContext(taken)
	defer cancel()
	pipe := b.rdb.Pipeline()
	for _, c := range taken {
		_ = pipe.Process(ctx, c.cmd)
	}
	// Each command keeps its own reply or error.
	_, _ = pipe.Exec(ctx)
	for _, c := range taken[1:] {
		close(c.done)
	}
}

// batchContext returns the context a batch runs with: without the values
// or cancellation of its callers' contexts, ending at the latest of their
// deadlines.
func batchContext(calls []*call) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range calls {
		d, ok := c.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
