// Package workers runs queries: a Worker holds one persistent database
// connection, pulls requests from the JetStream consumers of its tags,
// resolves the catalog entry, binds the parameters, runs the statements
// within the request's deadline, replies to the requester's inbox and acks.
// Every request pulled gets exactly one reply (when it names an inbox) and
// is acked once answered, so nothing is redelivered forever; a request
// still in flight at shutdown is left unacked for redelivery.
//
// Workers do not decide how many of them exist: the lead does.
package workers
