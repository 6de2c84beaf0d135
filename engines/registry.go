package engines

import (
	"fmt"
	"slices"
	"sync"
)

var (
	registryMu sync.RWMutex
	registry   = map[string]func() Engine{}
)

// Register makes an engine available by name. Each engine package calls it
// from init, so a binary links the engines it imports (cmd/dqm imports
// postgres, mysql and sqlite, and db2 under the db2 build tag). Registering
// a name twice panics, as database/sql's Register does.
func Register(name string, newEngine func() Engine) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("engines: Register called twice for " + name)
	}
	registry[name] = newEngine
}

// ErrNotLinked is returned by New for an engine this binary does not link.
var ErrNotLinked = fmt.Errorf("not built into this binary")

// New returns a new engine registered under name.
func New(name string) (Engine, error) {
	registryMu.RLock()
	newEngine, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%s is %w", name, ErrNotLinked)
	}
	return newEngine(), nil
}

// Registered lists the linked engines' names in order.
func Registered() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
