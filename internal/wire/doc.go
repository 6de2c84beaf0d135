// Package wire encodes and decodes dqm's CloudEvents in NATS binary mode:
// attributes as ce-* headers, the payload as the message data. Requests are
// validated with the CloudEvents SDK so a malformed event is refused with a
// reason. It is shared by the Go client (ingress) and the workers, and
// knows nothing of databases.
package wire
