package wasm

import "time"

// Limits bound what one module may use; each field is documented, with
// its default, by the Limits of package plugins, which sets them all.
type Limits struct {
	Timeout              time.Duration // deadline of one hook call
	MemoryPages          uint32        // cap of an instance's linear memory, in 64 KiB pages
	MaxTableElements     uint32        // cap of each table, in elements
	MaxLogBytes          int           // what one call may log
	MaxLogBytesPerSecond int           // what the module may log per second
	MaxInput             int           // bytes of an input document
	MaxOutput            int           // bytes of an output document
	MaxInstances         int           // live instances
	MaxIdle              int           // idle instances kept warm
	InstantiateTimeout   time.Duration // deadline of creating an instance
	MaxCallsPerInstance  int           // calls before an instance is retired
}
