package adminapi

import "github.com/registrar-dev/registrar/engine"

// storeView is the "store" member of GET /admin/policies/status: this
// replica's last check of the store's servers.
type storeView struct {
	Shards []shardView `json:"shards"`
}

// shardView is one server in storeView, with its times in the admin
// API's format and its latency in milliseconds.
type shardView struct {
	Addr        string    `json:"addr"`
	Slots       int       `json:"slots"`
	SlotRanges  []string  `json:"slot_ranges"`
	Global      bool      `json:"global"`
	Reachable   bool      `json:"reachable"`
	LatencyMS   float64   `json:"latency_ms"`
	CheckedAt   timestamp `json:"checked_at,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt timestamp `json:"last_error_at,omitzero"`
}

// newStoreView turns the last check into its view; nil shards (no check
// yet) is an empty list.
func newStoreView(shards []engine.ShardStatus) *storeView {
	v := &storeView{Shards: make([]shardView, 0, len(shards))}
	for _, s := range shards {
		ranges := s.SlotRanges
		if ranges == nil {
			ranges = []string{}
		}
		v.Shards = append(v.Shards, shardView{
			Addr: s.Addr, Slots: s.Slots, SlotRanges: ranges, Global: s.Global, Reachable: s.Reachable,
			LatencyMS: float64(s.Latency.Microseconds()) / 1000, CheckedAt: timestamp(s.CheckedAt),
			LastError: s.LastError, LastErrorAt: timestamp(s.LastErrorAt),
		})
	}
	return v
}
