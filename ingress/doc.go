// Package ingress is the REST adapter: HTTP requests in Hydrogen's Conduit
// API (and the seed's GET path) become queries sent with the Go client
// (package client, through internal/clientlink, which hands REST the
// reply's bytes to write as they are). It is the HTTP trust boundary:
// bearer tokens (Auth: JWT), trace context (TraceHTTP), bounded bodies
// and responses, an in-flight cap, JSON for every refusal. It validates
// what it can before anything is queued (database, ref, public, params)
// and never talks to a database. It is the server's part: a service
// imports client, not ingress.
package ingress
