// Package enginetest is the conformance suite every engine runs, in dqm or
// in a module that adds one (see engines' Example): Run takes a Harness
// (the engine, a fresh isolated namespace per test, and the Features in
// which engines legitimately differ) and checks connecting, queries, the
// whole JSON type mapping byte for byte, parameter binding, error classes,
// timeouts, transactions, the statement cache, lost connections and the
// System statements (system.go: setup, catalog read, idempotency record,
// triggers) against a real database. It is imported only by tests; it
// holds no engine-specific code beyond what a Harness passes in.
package enginetest
