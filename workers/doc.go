// Package workers runs queries: a Worker holds one persistent database
// connection, pulls requests from the JetStream consumers of its tags and
// passes each through a Handler wrapped in small middleware (chain.go),
// in the shape of watermill's router. Every request pulled gets at most one
// reply, to an allowed inbox only, before it is acked; one in flight at
// shutdown is left unacked for redelivery. Workers do not decide how many
// of them exist: the lead does. While its database has direct entries
// (or direct_reads), each worker also serves the direct lane (direct.go):
// core NATS requests on db.<name>.direct, as one instance of the micro
// service dqm_<name>, through the same chain with tag "direct".
//
// The chain, outermost first:
//   - observe: counts answered requests by outcome, terminated ones by reason
//   - recovery: a panic is logged with its stack, dead-lettered, answered
//     500 internal, terminated; the worker goes on
//   - ack: acks, NAKs or terminates the message, after the reply
//   - decode: reads the CloudEvent (a malformed one goes on, to be answered)
//   - trace: its trace context on ctx (trace_id in logs); with tracing on,
//     spans for the queue wait and the execution
//   - guard: a reply subject outside the allowed prefixes: not run, no
//     reply, dead-lettered, terminated
//   - reply: publishes the reply; too large for NATS: 413, never re-run
//   - encode: writes the reply; over the NATS max payload: 413 too_large
//   - landing: past the landing bound, a request cut short is NAKed
//   - check: malformed → 400 bad_request; another database → 400
//   - deadline: expired in the queue → 408; else it bounds the rest
//   - resolve: catalog entry, parameters bound; its timeout bounds the rest
//   - lane: on the direct lane, an entry that is not direct (a write never
//     is) → 400 bad_request, not run
//   - idempotency: a write already applied is answered with the outcome
//     its first attempt recorded (another body under its id: 422); else
//     its id is recorded first and its outcome last in its transaction
//   - retry: a deadlock or serialization failure runs once more; after a
//     lost connection a read runs again, a write only if its record
//     shows it did not commit
//   - execute: runs the statements (max_rows → 413), invalidates writes
package workers
