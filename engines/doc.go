// Package engines runs SQL on one persistent database connection and turns
// rows into dqm's engine-independent JSON. Engine and Conn (engine.go) are
// the clients' path; System (system.go) is dqm's own statements, read as
// Go values. postgres/, mysql/, sqlite/ and db2/ implement both,
// internal/system holds the SQL they share, and enginetest/ is the
// conformance suite every one of them runs.
//
// Shared here: the row → JSON writer that fixes the type mapping, and
// DatabaseError, which classifies errors into contract codes. Nothing
// outside engines/ imports a driver (boundary_test.go); engines know
// nothing of NATS, queues or the catalog.
package engines
