// Package engines runs SQL on one persistent database connection and turns
// rows into dqm's engine-independent JSON; it is where a database is added.
// Engine and Conn (engine.go) carry the clients' queries; System
// (system.go) is dqm's own statements, read as Go values. postgres/,
// mysql/, sqlite/ and db2/ implement both, each with its DDL in ddl/.
//
// An engine from another module implements Engine and System, calls
// Register from its package's init, and passes enginetest.Run, the suite
// every engine here passes (see Example); dqm links it by a blank import in
// a file added to cmd/dqm, as DB2's driver is. Its tools here: RowWriter
// (the one type mapping), DatabaseError and Classify (contract codes),
// StmtCache, WatchDeadline, ReadSQLRows. Nothing outside engines/ imports a
// driver (boundary_test.go); engines know nothing of NATS, queues or the
// catalog.
package engines
