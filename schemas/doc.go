// Package schemas is dqm's wire contract in Go: subject and stream names,
// CloudEvent types and attribute names, the request and reply payloads and
// the error codes with their HTTP statuses. The DDL of the tables dqm owns
// is each engine's (engines/<name>/ddl/).
//
// It is the source of truth of the public interface (the JSON Schemas in
// json/) and imports nothing of dqm but internal/jsonw, a
// small JSON encoder, so every other package, and any service talking to
// dqm, can depend on it.
package schemas
