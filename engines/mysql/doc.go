// Package mysql is the MySQL/MariaDB engine, on go-sql-driver/mysql driven
// directly (no database/sql pool): one connection, server-side prepared
// statements in an LRU, values always bound, never interpolated.
//
// Deadlines never reach the driver, which would close the connection on
// cancel: a session statement limit bounds it on the server, and KILL QUERY
// from a second connection stops it (timeout.go). Connecting: connect.go;
// DSNs: ParseDSN; types: types.go, rows.go. system.go and ddl/ are dqm's
// own SQL; trigger DDL runs on the text protocol over a connection of its
// own (triggerddl.go).
package mysql
