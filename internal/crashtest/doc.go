// Package crashtest kills a whole `dqm serve` process (SIGKILL) in the
// middle of a mixed load and restarts it on the same JetStream store and
// database, with clients that retry every unanswered request under the
// same Idempotency-Key or RequestID. It proves the promise of DESIGN.md
// ("Retry-safe everywhere", "Writes are idempotent"): every write applied
// once, every request answered, every change event published once in
// order. It has no code besides its test; it builds ./cmd/dqm to run it.
package crashtest
