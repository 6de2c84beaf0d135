package schemas

import "time"

// Heartbeat is published on dqm.<name>.heartbeat by the Lead and written
// by every instance to KV dqm_status under <name>.<instance> (README, "Queues, workers and the Lead").
type Heartbeat struct {
	Database       string        `json:"database"`
	Instance       string        `json:"instance"`
	Leader         bool          `json:"leader"`
	State          string        `json:"state"`
	Queues         []QueueStatus `json:"queues"`
	CatalogEntries int           `json:"catalog_entries"`
	CacheEntries   int           `json:"cache_entries"`
	Time           time.Time     `json:"time"`
	// Streams are the replication of the database's request stream and
	// of the streams every database shares, as this instance last read it.
	Streams []StreamReplication `json:"streams,omitempty"`
}

// QueueStatus is one queue (worker) in a heartbeat. Pending and AckPending
// are the tag's consumer's, shared by every worker of the tag.
type QueueStatus struct {
	Label      string   `json:"label"`
	Tags       []string `json:"tags"`
	Workers    int      `json:"workers"`
	Pending    uint64   `json:"pending"`
	AckPending int      `json:"ack_pending"`
	Processed  uint64   `json:"processed"`
	Failed     uint64   `json:"failed"`
}

// Plan is the Lead's desired worker count per tag across all instances,
// kept in KV dqm_leaders under <name>.plan.
type Plan struct {
	Leader  string         `json:"leader"`
	Workers map[string]int `json:"workers"`
	Time    time.Time      `json:"time"`
}
