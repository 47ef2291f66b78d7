package wasm

import (
	"context"

	"github.com/tetratelabs/wazero"
)

// Cache shares compiled code between modules and, when it has a
// directory, across restarts. It is safe for concurrent use.
type Cache struct{ c wazero.CompilationCache }

// NewCache returns a cache that keeps compiled code in dir, or in memory
// only when dir is "".
func NewCache(dir string) (*Cache, error) {
	if dir == "" {
		return &Cache{wazero.NewCompilationCache()}, nil
	}
	c, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, err
	}
	return &Cache{c}, nil
}

// Close releases the cache; the modules that used it must be closed.
func (c *Cache) Close(ctx context.Context) error { return c.c.Close(ctx) }
