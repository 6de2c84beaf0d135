// Package jsretry tells JetStream's passing states — a cluster still
// forming, a meta or stream leader being elected, a peer not yet reporting
// — from real failures, and retries setup calls through them with
// internal/backoff. It does not decide what an error means to a client:
// the Go client (package client) maps errors to codes.
package jsretry
