package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/registrar-dev/registrar/internal/redistest"
)

// countingHook counts the commands and pipelines that reach the client.
type countingHook struct {
	mu         sync.Mutex
	singles    int
	pipelines  int
	inPipeline int
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.singles++
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.pipelines++
		h.inPipeline += len(cmds)
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestBatcherConcurrentCommands sends many commands and scripts at once
// through one batcher: each caller gets its own reply, and batches of more
// than one command were sent as pipelines.
func TestBatcherConcurrentCommands(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	// The batcher's hook runs first; the counting hook, added after it,
	// sees what the batcher sends.
	b := newBatcher(rdb, 1)
	rdb.AddHook(b)
	count := &countingHook{}
	rdb.AddHook(count)
	script := redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
	const callers, rounds = 32, 20
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "k" + strconv.Itoa(i)
			for r := range rounds {
				ctx, cancel := context.WithTimeout(b.mark(context.Background()), 5*time.Second)
				err := rdb.Set(ctx, key, r, 0).Err()
				var got string
				if err == nil {
					got, err = rdb.Get(ctx, key).Result()
				}
				var n int64
				if err == nil {
					n, err = script.Run(ctx, rdb, []string{key}, i).Int64()
				}
				cancel()
				switch {
				case err != nil:
					errs <- err
					return
				case got != strconv.Itoa(r):
					errs <- fmt.Errorf("caller %d round %d: GET gave %q", i, r, got)
					return
				case n != int64(r+i):
					errs <- fmt.Errorf("caller %d round %d: script gave %d, want %d", i, r, n, r+i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	count.mu.Lock()
	defer count.mu.Unlock()
	if count.pipelines == 0 {
		t.Errorf("no pipelines: %d commands sent one by one", count.singles)
	}
	if count.inPipeline+count.singles < callers*rounds*3 {
		t.Errorf("%d commands in pipelines and %d alone, want at least %d", count.inPipeline, count.singles, callers*rounds*3)
	}
}

// TestBatcherUnmarkedAndWithdrawn: a command without the batcher's mark
// is sent at once even when no batch could take it, and a marked one that
// finds no batch withdraws at its deadline with the context's error.
func TestBatcherUnmarkedAndWithdrawn(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true})
	defer rdb.Close()
	b := newBatcher(rdb, 1)
	rdb.AddHook(b)
	b.running = 1 // every batch "in flight": a marked command would wait
	if err := rdb.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.mark(context.Background()), 50*time.Millisecond)
	defer cancel()
	err := rdb.Get(ctx, "k").Err()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a marked command with no batch to join: %v, want the context's deadline", err)
	}
	if len(b.queue) != 1 || b.queue[0].state.Load() != callWithdrawn {
		t.Fatalf("the withdrawn call: queue %v", b.queue)
	}
}
