// Package system is the SQL dqm runs on its own behalf that the engines
// share: a Dialect (what differs besides each engine's DDL files, ddl/*.sql),
// the trigger templates' rendering, and Base, the System methods whose
// SQL differs only by Dialect. Each engine package embeds Base and adds
// what is its own (PostgreSQL's LISTEN, MySQL's text-protocol DDL, DB2's
// SQLSTATEs). Only engines/ imports it; it must not know about NATS.
package system
