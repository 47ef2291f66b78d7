// Command floor is the least a Go server can do for an RFC 7592 read, for
// bench/README.md: a net/http handler that GETs one stored client record
// from Redis with go-redis (pool and timeouts as redisstore sets them) and
// writes it back, with nothing else: no routing, authentication, JSON,
// audit or logging. The CPU it spends per request, measured like the
// servers of the side-by-side harness, is the floor under Registrar's read
// on the same machine: the part of a request that net/http, go-redis and
// the kernel take whatever the application does.
//
//	redis-server --port 6392 --save '' --appendonly no --daemonize yes
//	go build -o /tmp/floor ./bench/floor
//	taskset -c 1 /tmp/floor -redis 127.0.0.1:6392 -addr 127.0.0.1:18090 &
//	RAT=x CLIENT_PATH=/reg/c taskset -c 0 wrk -t2 -c16 -d10s -s ../shared/bench/oidc-provider/read.lua http://127.0.0.1:18090
//
// then the server's CPU seconds from /proc/<pid>/stat over the run,
// divided by the requests wrk reports.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	size := flag.Int("record", 1200, "bytes of the stored record")
	flag.Parse()
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second})
	ctx := context.Background()
	record := `{"client_id":"c","padding":"` + strings.Repeat("x", max(*size-30, 0)) + `"}`
	if err := rdb.Set(ctx, "floor:client", record, 0).Err(); err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		octx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		rec, err := rdb.Get(octx, "floor:client").Bytes()
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(rec)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
