package jose

// Waiters returns how many callers wait for the fetch of url in flight.
func (k *KeySets) Waiters(url string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.entries[url]; ok && e.call != nil {
		return e.call.waiters
	}
	return 0
}

// Entries returns how many URLs k remembers.
func (k *KeySets) Entries() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}

// CacheMaxAge is cacheMaxAge, for the fuzz test.
var CacheMaxAge = cacheMaxAge
