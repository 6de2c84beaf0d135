// Package ingress is how requests enter dqm: Client, the Go client that
// publishes a query request to JetStream and awaits its one reply (or,
// for an entry on the direct lane, sends it as one core NATS request:
// direct.go), and
// REST, the HTTP adapter that speaks Hydrogen's Conduit API on top of the
// client. It is the HTTP trust boundary: bearer tokens (Auth), bounded
// bodies and responses, an in-flight cap, JSON for every refusal. It
// validates what it can before anything is queued (database, ref, public,
// params, the reply inbox) and never talks to a database.
package ingress
