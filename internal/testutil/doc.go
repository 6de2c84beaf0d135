// Package testutil holds what several packages' tests need: an embedded
// NATS server or cluster on random ports, a cluster of real nats-server
// processes that can be killed or frozen (NATSProcesses), the test
// databases' URLs, and Need, which skips a test when a service is absent
// locally but fails it under CI.
package testutil
