// Package test holds the end-to-end tests of the whole server (as
// nats-server's test/ does): each starts real instances with
// internal/server, with embedded NATS and the machine's databases, and
// drives them over REST, the Go client and NATS. Unit tests live beside
// their code.
package test
