// Package workers runs queries; it is a part of the dqm server, not an
// API for services (they use the client). Its surface is what the lead
// needs to run a queue: Config, New and a Worker's Run and stats.
//
// A Worker holds one persistent database connection, pulls requests from
// the JetStream consumers of its tags and passes each through a short
// chain of steps, in the shape of watermill's router: chain.go holds the
// order (a test holds it too), each step's file its concern. Every
// request pulled gets at most one reply, to an allowed inbox only, before
// it is acked; one cut short by the landing bound is NAKed for another
// instance. Workers do not decide how many of them exist: the lead does.
// While its database has direct entries (or direct_reads), each worker
// also serves the direct lane (direct.go): core NATS requests on
// db.<name>.direct, as one instance of the micro service dqm_<name>,
// through the same chain with tag "direct".
package workers
