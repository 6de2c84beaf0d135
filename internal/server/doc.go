// Package server launches and lands one dqm instance. Start (launch.go)
// is a list of named steps: NATS (embedded or remote), the client side
// (tracing, metrics, cache, Go client), the JetStream topology
// (internal/topology), the databases (a Lead each: its stream and
// consumers, connection, catalog, workers), HTTP (http.go). Shutdown
// (land.go) runs them backwards: HTTP stops accepting and finishes its
// requests, workers stop fetching and finish what they run, connections
// close, NATS drains.
//
// It wires the rooms together and holds no request logic of its own.
package server
