// Package server launches and lands one dqm instance in launch order:
// config → NATS (embedded or remote) → per database: stream and consumers,
// connection, catalog, workers → HTTP. Landing (Shutdown or ctx end) runs
// it backwards: HTTP stops accepting and finishes its requests, workers stop
// fetching and finish what they run, connections close, NATS drains.
//
// It wires the rooms together and holds no request logic of its own.
package server
