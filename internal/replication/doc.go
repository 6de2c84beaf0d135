// Package replication reads how dqm's streams and KV buckets are
// replicated on the NATS cluster (leader, current, lagging and offline
// replicas) for the status endpoint, the heartbeat, `dqm status`, /readyz
// and the dqm_stream_replicas gauges, and warns when one replica is
// configured on a multi-node cluster. It reports; replicating is NATS's
// job and creating the streams is the orchestrator's.
package replication
