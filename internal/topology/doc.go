// Package topology declares every JetStream resource dqm creates, in one
// file (topology.go): per database the request stream DQM_<DB> and its
// four pull consumers; the change stream DQM_CHANGES; the dead-letter
// stream DQM_DLQ; and the KV buckets dqm_leaders, dqm_status and
// dqm_catalog. Its Ensure functions create them, or update them in place,
// retrying while a NATS cluster forms (internal/jsretry).
//
// It owns the resources' settings, not their use: the Lead, the workers,
// the ingress and the CLI only open what it made.
package topology
