// Package engines runs SQL on one persistent database connection and turns
// rows into dqm's engine-independent JSON. Engine and Conn are the whole
// interface; postgres/, mysql/, sqlite/ and db2/ (build tag db2) implement
// it, and enginetest/ is the conformance suite every one of them runs.
//
// Shared here: the row → JSON writer that fixes the type mapping, and
// DatabaseError, which classifies an engine's errors into contract codes.
// Engines know nothing of NATS, queues or the catalog.
package engines
