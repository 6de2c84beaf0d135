// Package workers runs queries; it is a part of the dqm server, not an
// API for services, and exports only what the lead uses (Config, New,
// Worker). A Worker holds one database connection, pulls its tags'
// queues (pull.go: a stopping worker answers what its last pulls bring)
// and passes each request through a short chain of steps, watermill's
// router shape: chain.go holds the order, each step's file its concern.
// Every request gets at most one reply, to an allowed inbox only, before
// it is acked. While its database has direct entries (or direct_reads),
// a worker also serves the direct lane (direct.go) through the same
// chain. How many workers exist is the lead's decision.
package workers
