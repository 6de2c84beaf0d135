// Package metrics holds dqm's Prometheus metrics, one registry per
// instance so tests can run several instances in one process. Workers,
// leads and the REST adapter record into it; /metrics serves it. It
// records and exposes, nothing else.
package metrics
