// Package catalog is the query ID system: it loads a database's entries
// (its own queries table, a host database's queries table, or a JSON file),
// checks them, and compiles each entry's SQL for the database's engine once,
// so a request only looks up (database, ref) and binds values.
//
// It reads tables through engines.Conn and knows nothing of NATS.
package catalog
