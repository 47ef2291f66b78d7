package engine

import "time"

// ShardStatus is the health of one server of a store that spreads its keys
// over several (a Redis Cluster primary), or of the one server of a store
// that does not, as one replica sees it. A tenant's keys all live on one
// shard; the keys that belong to no tenant (the tenant index, the
// replicas' status) live on one shard too, marked Global: the replica is
// ready only while that one answers, whatever the others do.
type ShardStatus struct {
	// Addr is the server's address, host:port (for a Sentinel-managed
	// primary, the primary's name).
	Addr string
	// Slots is the number of hash slots the server serves (0 outside a
	// Redis Cluster), SlotRanges those slots as "first-last" ranges.
	Slots      int
	SlotRanges []string
	// Global reports whether the server holds the keys that belong to no
	// tenant, which readiness depends on.
	Global bool
	// Reachable reports whether the server answered the last check.
	Reachable bool
	// Latency is the round trip of the last check's PING (0 when it
	// failed).
	Latency time.Duration
	// CheckedAt is when the last check ran.
	CheckedAt time.Time
	// LastError is the error of the last check that failed, kept after the
	// server answers again; LastErrorAt is when that check ran.
	LastError   string
	LastErrorAt time.Time
}
