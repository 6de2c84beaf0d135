// Package lead runs one database on this instance: its stream and
// consumers (made by internal/topology), its workers (pool.go; 00 is the Lead's own, with L
// and every tag of max 0), and small jobs that Lead.Run starts and stops in
// one errgroup: health (health.go), catalog (catalogs.go), lease
// (lease.go), plan (plan.go), heartbeat (heartbeat.go), changes
// (changes.go) and dead letters (deadletter.go). They share leaderState and
// the connection (signal.go, conn.go); dqm's own statements are reached
// only through system.go. The Lead runs no client query but its kept tags'.
//
// lead is a part of the dqm server, not an API for services (they use
// the client): what it exports is for the orchestrator (internal/server)
// and cmd/dqm.
package lead
