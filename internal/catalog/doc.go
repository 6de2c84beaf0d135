// Package catalog is the query ID system: it loads a database's entries
// (a queries table read by the engine's System.ReadCatalog and converted
// by Entries, or a JSON file), checks them, and compiles each entry's SQL
// for the database's engine once, so a request only looks up (database,
// ref) and binds values.
//
// It runs no SQL itself and knows nothing of NATS.
package catalog
