package schemas

import "time"

// StreamReplication is how one of dqm's streams is replicated on the NATS
// cluster, as its leader reports it (a KV bucket is the stream
// KV_<bucket>). In the status endpoint, the heartbeat and `dqm status`.
type StreamReplication struct {
	Stream string `json:"stream"`
	// Replicas is the configured replica count.
	Replicas int `json:"replicas"`
	// Leader is the server leading it; "" while it has none (then it
	// takes no writes).
	Leader string `json:"leader"`
	// Current counts the replicas up to date with the leader, the leader
	// included.
	Current int `json:"current"`
	// Lagging are replicas online but behind the leader; Offline are
	// replicas the group has not heard from recently.
	Lagging []string `json:"lagging,omitempty"`
	Offline []string `json:"offline,omitempty"`
	// Error says why the stream could not be read (no leader answering,
	// NATS unreachable); the other fields are then empty.
	Error string `json:"error,omitempty"`
}

// Replication is an instance's view of every stream and bucket dqm uses.
type Replication struct {
	// Replicas is config nats.replicas.
	Replicas int `json:"replicas"`
	// Cluster is the NATS cluster's name ("" on a single server).
	Cluster string `json:"cluster,omitempty"`
	// Warning is set when the configuration loses data with a node: one
	// replica on a multi-node cluster.
	Warning string              `json:"warning,omitempty"`
	Streams []StreamReplication `json:"streams"`
	// Checked is when the streams were last read.
	Checked time.Time `json:"checked"`
}
