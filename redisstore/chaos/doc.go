// Package chaos owns the failover tests of the Redis store: a registrar
// binary under registration load against a real Redis Cluster (three
// primaries, three replicas) and a Sentinel set, while primaries are
// killed (SIGKILL) or hung (SIGSTOP) and replicas lag. The tests assert
// that clients only ever see 503 with Retry-After during an outage, that
// registrations recover within the promotion time plus 2 s with nothing
// polling /readyz, and that with --redis-wait-replicas no acknowledged
// client is lost; they log the measured times and losses.
//
// They run only when asked, as they take minutes and measure time:
//
//	go test ./redisstore/chaos -chaos          # every scenario
//	REGISTRAR_CHAOS=1 go test ./redisstore/chaos
//	REGISTRAR_CHAOS=short go test ./redisstore/chaos   # the CI form
//
// The package has no code of its own.
package chaos
