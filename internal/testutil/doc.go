// Package testutil holds what several packages' tests need: an embedded
// NATS server on a random port, the test databases' URLs, and Need, which
// skips a test when a service is absent locally but fails it under CI.
package testutil
