// Package postgres is the PostgreSQL engine, on pgx/v5's native Conn (no
// database/sql, no pool): one persistent connection per worker, pgx's
// prepared-statement cache sized from Options, and a context watcher that
// cancels a running query with a CancelRequest so the connection survives a
// deadline. Rows are decoded by column OID into engines.RowWriter; Classify
// turns SQLSTATEs into contract codes; sessions run in UTC. system.go and
// ddl/ are dqm's own SQL here (one capture function for every trigger);
// listen.go is the LISTEN wake-up. It knows nothing of NATS.
package postgres
