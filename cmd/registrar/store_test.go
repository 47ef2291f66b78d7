package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/registrar-dev/registrar/internal/redistest"
	"github.com/registrar-dev/registrar/internal/testkit"
	"github.com/registrar-dev/registrar/memstore"
	"github.com/registrar-dev/registrar/redisstore"
)

var quiet = testkit.DiscardLogger()

// TestOpenStore: an empty --redis-url is the in-memory store; a Redis URL
// is the Redis store (redisstore.Open, whose tests cover the URL forms); a
// URL it cannot use is a usage error.
func TestOpenStore(t *testing.T) {
	ctx := t.Context()
	s, closeStore, err := openStore(ctx, "", time.Second, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*memstore.Store); !ok {
		t.Errorf("empty URL: %T, want the in-memory store", s)
	}
	closeStore()

	single := redistest.Start(t, redistest.Options{})
	s, closeStore, err = openStore(ctx, "redis://"+single.Addr+"/1", time.Second, quiet)
	if err != nil {
		t.Fatalf("openStore: %v", err)
	}
	if _, ok := s.(*redisstore.Store); !ok {
		t.Fatalf("%T, want the Redis store", s)
	}
	if err := closeStore(); err != nil {
		t.Errorf("close: %v", err)
	}

	_, _, err = openStore(ctx, "http://127.0.0.1:6379", time.Second, quiet)
	var usage usageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--redis-url") {
		t.Errorf("openStore(http://...) = %v, want a usage error naming --redis-url", err)
	}
}

// TestServeRedisEndToEnd runs "registrar serve --redis-url" against a real
// redis-server: a client registered through one process is read back, with
// its registration access token, through a new process after the first
// has stopped.
func TestServeRedisEndToEnd(t *testing.T) {
	const adminToken = "cli-admin-token-0123456789"
	srv := redistest.Start(t, redistest.Options{})
	url := "redis://" + srv.Addr + "/0?timeout=1s"
	vars := map[string]string{"REGISTRAR_ADMIN_TOKEN": adminToken}
	addr, adminAddr, logs, stop := startServeStoppable(t, vars, "--redis-url", url)
	if l := logs.String(); !strings.Contains(l, "using the Redis store") || strings.Contains(l, "in-memory") {
		t.Errorf("start-up log does not say that the Redis store is used:\n%s", l)
	}
	ctx := context.Background()

	e, out, errb := testEnv(vars)
	if err := run(ctx, []string{"iat", "create", "--tenant", "default", "--admin-url", "http://" + adminAddr, "--expires-in", "PT1H", "--max-uses", "2"}, e); err != nil {
		t.Fatalf("iat create: %v\n%s", err, errb.String())
	}
	var iat struct {
		Token string `json:"initial_access_token"`
	}
	if err := json.Unmarshal([]byte(out.String()), &iat); err != nil {
		t.Fatalf("iat create printed %q: %v", out.String(), err)
	}
	e, out, errb = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb"],"client_name":"Durable"}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err != nil {
		t.Fatalf("register: %v\n%s", err, errb.String())
	}
	var client struct {
		ID  string `json:"client_id"`
		RAT string `json:"registration_access_token"`
		URI string `json:"registration_client_uri"`
	}
	if err := json.Unmarshal([]byte(out.String()), &client); err != nil || client.RAT == "" {
		t.Fatalf("register printed %q: %v", out.String(), err)
	}
	stop()

	// A new process, configured through the environment this time.
	vars["REGISTRAR_REDIS_URL"] = url
	addr, adminAddr, _, _ = startServeStoppable(t, vars)
	req, _ := http.NewRequest("GET", "http://"+addr+"/reg/"+client.ID, nil)
	req.Header.Set("Authorization", "Bearer "+client.RAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got["client_name"] != "Durable" {
		t.Fatalf("read through the second process: %d %v", resp.StatusCode, got)
	}
	// The token's use count survived: one use is left.
	e, _, errb = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb2"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err != nil {
		t.Fatalf("second registration: %v\n%s", err, errb.String())
	}
	e, _, _ = testEnv(nil)
	e.stdin = strings.NewReader(`{"redirect_uris":["https://app.example/cb3"]}`)
	if err := run(ctx, []string{"register", "--issuer", "http://" + addr, "--iat", iat.Token, "--metadata", "-"}, e); err == nil {
		t.Error("a third registration with a two-use token succeeded")
	}
	req, _ = http.NewRequest("GET", "http://"+adminAddr+"/admin/tenants/default/clients", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Clients []struct {
			ID string `json:"client_id"`
		} `json:"clients"`
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Clients) != 2 || !slices.ContainsFunc(list.Clients, func(c struct {
		ID string `json:"client_id"`
	}) bool {
		return c.ID == client.ID
	}) {
		t.Errorf("the second process lists %+v, want two clients, %s among them", list.Clients, client.ID)
	}
}
