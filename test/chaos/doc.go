// Package chaos is dqm's high-availability suite: three real nats-server
// processes (each in its own network namespace where `ip netns` works),
// two dqm instances built from cmd/dqm, and PostgreSQL, under keyed REST
// writes and reads while nodes are killed, stopped and partitioned. A
// checker then proves every acknowledged write applied exactly once,
// every request answered before its deadline and the change stream
// without a gap, and measures the time from each fault to requests
// flowing again. It runs under the build tag chaos: `make chaos` (20 runs
// of each fault) and `make chaos-short` (CI). Results: results.json and
// the table in docs/ha.md.
package chaos
