// Package client is the Go client a service imports to query dqm: Query
// publishes a catalog query (database, ref, typed params) to the
// database's JetStream queue, or sends it on the direct lane, and awaits
// its one reply on a single reply subscription; a Cache (WithCache) keeps
// a near-cache that the catalog in KV and dqm's invalidations keep
// correct; Tail follows a database's change stream.
//
// It is lean on purpose: nats.go, the contract (schemas) and the
// OpenTelemetry API for trace context, never a database driver,
// nats-server, a JWT library, the OpenTelemetry SDK or Prometheus
// (deps_test.go). The REST adapter (package ingress) is built on it.
package client
