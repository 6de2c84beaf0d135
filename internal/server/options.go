package server

import (
	"os"
	"strings"
	"time"

	"github.com/nats-io/nuid"
)

// Options are knobs for tests and embedding; the config file holds the rest.
type Options struct {
	// Tick is how often each Lead looks at lag (default 250 ms).
	Tick time.Duration
}

// Option sets an Option.
type Option func(*Options)

// WithTick sets the Leads' decision interval.
func WithTick(d time.Duration) Option { return func(o *Options) { o.Tick = d } }

// instanceID is the hostname plus a random suffix, restricted to the
// characters of a KV key token.
func instanceID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, host)
	if host == "" {
		host = "dqm"
	}
	return host + "-" + nuid.Next()[16:]
}
