package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/registrar-dev/registrar/redisstore"
)

// durabilityFlags are serve's replication wait flags (docs/redis.md,
// "Durability"), as given and as parsed by check.
type durabilityFlags struct {
	waitReplicasS, waitTimeoutS string
	waitReplicas                int
	waitTimeout                 time.Duration
	// observe is the metrics' observer of the waits, set once the metrics
	// exist (the store is opened before them).
	observe atomic.Pointer[func(time.Duration, string)]
}

// register adds the flags through str (serveCmd's).
func (d *durabilityFlags) register(str func(p *string, name, envName, def, help string)) {
	str(&d.waitReplicasS, "redis-wait-replicas", "REGISTRAR_REDIS_WAIT_REPLICAS", "0",
		"acknowledge a write only once this many Redis replicas have it (WAIT); 0: do not wait")
	str(&d.waitTimeoutS, "redis-wait-timeout", "REGISTRAR_REDIS_WAIT_TIMEOUT", redisstore.DefaultWaitTimeout.String(),
		"how long a write waits for --redis-wait-replicas before it is answered 503")
}

// check parses the flags.
func (d *durabilityFlags) check(redisURL string) error {
	n, err := strconv.Atoi(d.waitReplicasS)
	if err != nil || n < 0 {
		return usageError{fmt.Sprintf("--redis-wait-replicas %q: want a number of replicas, 0 for none", d.waitReplicasS)}
	}
	if d.waitTimeout, err = time.ParseDuration(d.waitTimeoutS); err != nil || d.waitTimeout < time.Millisecond {
		return usageError{fmt.Sprintf("--redis-wait-timeout %q: want a duration of at least 1ms such as 1s", d.waitTimeoutS)}
	}
	if n > 0 && redisURL == "" {
		return usageError{"--redis-wait-replicas needs --redis-url: the in-memory store has no replicas"}
	}
	d.waitReplicas = n
	return nil
}

// openOptions returns the store options of the flags, with Open's wait
// and logger.
func (d *durabilityFlags) openOptions(wait time.Duration, log *slog.Logger) redisstore.OpenOptions {
	o := redisstore.OpenOptions{Wait: wait, Logger: log, WaitReplicas: d.waitReplicas, WaitTimeout: d.waitTimeout}
	o.ObserveWait = func(w redisstore.ReplicationWait) {
		if f := d.observe.Load(); f != nil {
			(*f)(w.Duration, w.Outcome)
		}
	}
	return o
}
