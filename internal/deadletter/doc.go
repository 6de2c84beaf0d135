// Package deadletter keeps dqm's dead letters durable and lets an operator
// list, replay and purge them. Stream DQM_DLQ captures dqm.*.dlq, so a dead
// letter published while nobody listens is kept (bounded by age and
// count; internal/topology declares the stream). A dead letter is the original request (headers and data) plus
// Dqm-Dlq-* headers saying why. Replay republishes the request to its
// original subject with its original ce-id, so a write that did apply is
// answered from its idempotency record instead of running twice.
//
// It publishes nothing on its own: the Lead and the workers dead-letter;
// cmd/dqm's `dqm dlq` drives the rest.
package deadletter
