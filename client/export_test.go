package client

import "github.com/nats-io/nats.go"

// WithDroppedInvalidations makes the client's cache subscription discard
// the messages drop returns true for, as a slow consumer or a broken
// route would: the test hook for lost invalidations.
func WithDroppedInvalidations(drop func(*nats.Msg) bool) Option {
	return func(c *Client) { c.dropMsg = drop }
}
