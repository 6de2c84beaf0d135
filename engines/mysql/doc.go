// Package mysql is the MySQL/MariaDB engine, on go-sql-driver/mysql driven
// directly (no database/sql pool): one connection, server-side prepared
// statements in an LRU, values always bound, never interpolated.
//
// Deadlines never reach the driver, which would close the connection on
// cancel: a session statement limit (MariaDB max_statement_time, MySQL
// max_execution_time, SELECT only) bounds it on the server, and KILL QUERY
// from a short-lived second connection stops it at the deadline. DSNs: see
// ParseDSN. Type mapping and its MySQL limits: see types.go.
package mysql
