package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/oauth"
	"github.com/registrar-dev/registrar/redisstore"
)

// redisWait is how long serve waits at start-up for Redis to answer.
const redisWait = 15 * time.Second

// backend is what a store keeps for the engine and the policy host:
// clients, tokens and tenants, the audit log, the rate-limit budgets and
// the uploaded policy modules. memstore.Store and redisstore.Store are each
// all four.
type backend interface {
	engine.Store
	engine.AuditLog
	engine.Limiter
	engine.PolicyStore
	oauth.Store
}

var (
	_ backend = (*memstore.Store)(nil)
	_ backend = (*redisstore.Store)(nil)
)

// openStore returns the store that rawURL names: the embedded in-memory
// store when it is empty (logged loudly: its data is lost on exit), else a
// Redis store (redisstore.Open, which parses the URL), once Redis has
// answered a PING, which it retries for up to wait. closeStore releases
// the store's connections.
func openStore(ctx context.Context, rawURL string, wait time.Duration, log *slog.Logger) (store backend, closeStore func() error, err error) {
	return openStoreWith(ctx, rawURL, redisstore.OpenOptions{Wait: wait, Logger: log})
}

// openStoreWith is openStore with the Redis store's options (o.Logger is
// required).
func openStoreWith(ctx context.Context, rawURL string, o redisstore.OpenOptions) (store backend, closeStore func() error, err error) {
	log := o.Logger
	if rawURL == "" {
		log.Warn("using the embedded in-memory store: every client and token is lost when the process exits; set --redis-url for production")
		return memstore.New(memstore.Config{}), func() error { return nil }, nil
	}
	s, err := redisstore.Open(ctx, rawURL, o)
	if errors.Is(err, redisstore.ErrInvalidURL) {
		return nil, nil, usageError{"--redis-url: " + err.Error()}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--redis-url: %w", err)
	}
	log.Info("using the Redis store", "redis", s.String(), "wait_replicas", o.WaitReplicas)
	return s, s.Close, nil
}
