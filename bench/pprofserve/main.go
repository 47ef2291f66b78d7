// Command pprofserve serves what "registrar serve --redis-url" serves - the
// public and admin APIs over the engine and the Redis store - with Go's
// profiler (net/http/pprof) on a third listener, so that the load of
// bench/loadgen can be profiled. It is wired like cmd/registrar's serve,
// with the same client timeouts and JSON request logs, but without policy
// modules (software statements are verified, for tenants that trust
// issuers); the default tenant registers with stored initial access tokens
// (mint one through the admin listener, as the side-by-side benchmark
// does). It is a measuring tool, not a way to run Registrar.
//
//	go run ./bench/pprofserve -redis 127.0.0.1:6390 &
//	go tool pprof -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // the profiler's handlers, on http.DefaultServeMux
	"os"
	"time"

	"github.com/registrar-dev/registrar/adminapi"
	"github.com/registrar-dev/registrar/engine"
	"github.com/registrar-dev/registrar/fetch"
	"github.com/registrar-dev/registrar/httpapi"
	"github.com/registrar-dev/registrar/idn"
	"github.com/registrar-dev/registrar/internal/gcfloor"
	"github.com/registrar-dev/registrar/internal/logbuf"
	"github.com/registrar-dev/registrar/jose"
	"github.com/registrar-dev/registrar/oauth"
	"github.com/registrar-dev/registrar/redisstore"
)

func main() {
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	addr := flag.String("addr", "127.0.0.1:8080", "public listen address")
	adminAddr := flag.String("admin-addr", "127.0.0.1:8081", "admin listen address")
	pprofAddr := flag.String("pprof-addr", "127.0.0.1:6060", "profiler listen address")
	adminToken := flag.String("admin-token", "pprof-admin-token-0123456789", "admin token")
	logLevel := flag.String("log-level", "info", "log level: debug, info, warn or error")
	gcHeapFloor := flag.Uint64("gc-heap-floor", 64<<20, "heap floor in bytes, as serve's --gc-heap-floor (0: off; GOGC set: off)")
	flag.Parse()
	defer gcfloor.Start(*gcHeapFloor).Stop()
	if err := run(*redisAddr, *addr, *adminAddr, *pprofAddr, *adminToken, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "pprofserve:", err)
		os.Exit(1)
	}
}

func run(redisAddr, addr, adminAddr, pprofAddr, adminToken, logLevel string) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return err
	}
	// Log lines are written in batches, as serve writes them by default.
	lw := logbuf.New(os.Stderr, 64<<10, 100*time.Millisecond)
	defer lw.Close()
	log := slog.New(logbuf.Handler{Handler: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level}), W: lw})
	store, err := redisstore.Open(context.Background(), "redis://"+redisAddr, redisstore.OpenOptions{Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()
	// Software statements are verified as serve verifies them, with the
	// keys of issuers fetched through the guarded client.
	client, err := fetch.New(fetch.Config{})
	if err != nil {
		return err
	}
	sets, err := jose.NewKeySets(jose.KeySetsConfig{Fetcher: client})
	if err != nil {
		return err
	}
	statements, err := jose.NewStatements(jose.StatementsConfig{KeySets: sets, CheckURL: client.CheckURL})
	if err != nil {
		return err
	}
	reg, err := engine.New(engine.Config{
		Store: store, AuditLog: store, Limiter: store, Keys: jose.KeySetChecker{}, Hosts: idn.Normalizer{}, Logger: log,
		Statements: statements, Replay: store,
		Tenants: map[string]engine.Settings{engine.DefaultTenant: {InitialAccessToken: engine.TokenStored}},
	})
	if err != nil {
		return err
	}
	tokens, err := oauth.New(oauth.Config{Registrar: reg, Clients: store, Store: store, AuditLog: store, Limiter: store, Logger: log})
	if err != nil {
		return err
	}
	issuer := "http://" + addr
	pub, err := httpapi.New(httpapi.Config{Registrar: reg, Tokens: tokens, Issuer: issuer, Logger: log})
	if err != nil {
		return err
	}
	adm, err := adminapi.New(adminapi.Config{Registrar: reg, Token: adminToken, Issuer: issuer, Logger: log})
	if err != nil {
		return err
	}
	errc := make(chan error, 3)
	go func() { errc <- http.ListenAndServe(pprofAddr, nil) }()
	go func() { errc <- http.ListenAndServe(adminAddr, adm) }()
	go func() { errc <- http.ListenAndServe(addr, pub) }()
	return <-errc
}
