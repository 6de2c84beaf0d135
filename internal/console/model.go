package console

import "time"

// The JSON the console's data endpoints answer (schemas/openapi.json,
// ConsoleState and ConsolePoint). Times are RFC 3339; durations and ages
// are milliseconds; rates are per second.

// State is everything the pages show at one moment.
type State struct {
	Seq        uint64      `json:"seq"`
	Time       time.Time   `json:"time"`
	Instance   string      `json:"instance"`
	IntervalMS int64       `json:"interval_ms"`
	Databases  []DBState   `json:"databases"`
	Scale      []Decision  `json:"scale"`
	Leads      []LeadEvent `json:"lead_changes"`
	HTTP       []Route     `json:"http"`
}

// DBState is one database.
type DBState struct {
	Name   string `json:"name"`
	Engine string `json:"engine"`
	// State is this instance's connection state (CONNECTING, CONNECTED,
	// ERROR, DISCONNECTED); Ready adds a loaded catalog.
	State string `json:"state"`
	Ready bool   `json:"ready"`
	// Lead is the instance holding the Lead lease ("" while none does).
	Lead     string `json:"lead"`
	LeadHere bool   `json:"lead_here"`
	// HeartbeatAgeMS is the age of the Lead's last status in KV
	// dqm_status (-1: no Lead reporting).
	HeartbeatAgeMS int64 `json:"heartbeat_age_ms"`
	// LastCheck is this instance's last healthy connection check.
	LastCheck      *time.Time `json:"last_check,omitempty"`
	CatalogEntries int        `json:"catalog_entries"`
	DeadLetters    uint64     `json:"dead_letters"`
	Stream         Stream     `json:"stream"`
	Instances      []Instance `json:"instances"`
	Tags           []Tag      `json:"tags"`
	Workers        []Worker   `json:"workers"`
	Requests       []Requests `json:"requests"`
	Cache          Cache      `json:"cache"`
	ChangesPerS    float64    `json:"changes_per_s"`
}

// Stream is the database's request stream as NATS reports it.
type Stream struct {
	Name     string   `json:"name"`
	Replicas int      `json:"replicas"`
	Leader   string   `json:"leader"`
	Peers    []string `json:"peers"`
	Messages uint64   `json:"messages"`
}

// Instance is one dqm instance serving the database.
type Instance struct {
	ID     string `json:"id"`
	Leader bool   `json:"leader"`
	State  string `json:"state"`
	AgeMS  int64  `json:"age_ms"`
}

// Tag is one queue: its configured bounds, the plan, the workers running
// it cluster-wide and its consumer.
type Tag struct {
	Tag        string  `json:"tag"`
	Min        int     `json:"min"`
	Max        int     `json:"max"`
	Desired    int     `json:"desired"`
	Running    int     `json:"running"`
	Pending    uint64  `json:"pending"`
	AckPending int     `json:"ack_pending"`
	Delivered  uint64  `json:"delivered"`
	PerS       float64 `json:"per_s"`
}

// Worker is one worker of the database on one instance.
type Worker struct {
	Instance  string   `json:"instance"`
	Label     string   `json:"label"`
	Tags      []string `json:"tags"`
	Lead      bool     `json:"lead"`
	Processed uint64   `json:"processed"`
	Failed    uint64   `json:"failed"`
}

// Requests are this instance's workers' answers for one queue.
type Requests struct {
	Tag     string            `json:"tag"`
	Total   uint64            `json:"total"`
	PerS    float64           `json:"per_s"`
	ErrPerS float64           `json:"errors_per_s"`
	Errors  map[string]uint64 `json:"errors"`
	ExecMS  Quantiles         `json:"exec_ms"`
	WaitMS  Quantiles         `json:"wait_ms"`
}

// Quantiles are latency percentiles over the last ten seconds (0: none).
type Quantiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

// Cache is this instance's result cache for the database. HitRatio is
// over the last ten seconds (-1: no lookups), HitRatioAll since start.
type Cache struct {
	Entries       int     `json:"entries"`
	Hits          uint64  `json:"hits"`
	Misses        uint64  `json:"misses"`
	Invalidations uint64  `json:"invalidations"`
	Evictions     uint64  `json:"evictions"`
	Drops         uint64  `json:"drops"`
	HitRatio      float64 `json:"hit_ratio"`
	HitRatioAll   float64 `json:"hit_ratio_all"`
}

// Route is one REST route of this instance.
type Route struct {
	Route     string            `json:"route"`
	Total     uint64            `json:"total"`
	PerS      float64           `json:"per_s"`
	Status    map[string]uint64 `json:"status"`
	LatencyMS Quantiles         `json:"latency_ms"`
}

// Decision is one scaling decision, seen as a change of the Lead's plan.
type Decision struct {
	Time     time.Time `json:"time"`
	Database string    `json:"database"`
	Tag      string    `json:"tag"`
	From     int       `json:"from"`
	To       int       `json:"to"`
	Leader   string    `json:"leader"`
}

// LeadEvent is a change of a database's Lead holder ("" none).
type LeadEvent struct {
	Time     time.Time `json:"time"`
	Database string    `json:"database"`
	From     string    `json:"from"`
	To       string    `json:"to"`
}

// Point is one second of history, for the charts.
type Point struct {
	Seq uint64             `json:"seq"`
	T   int64              `json:"t"` // unix milliseconds
	DBs map[string]DBPoint `json:"dbs"`
}

// DBPoint is one database's values in a Point.
type DBPoint struct {
	Depth   map[string]uint64  `json:"depth"` // per tag: pending + ack pending
	Tput    map[string]float64 `json:"tput"`  // per tag: deliveries per second
	Req     float64            `json:"req"`   // answers per second (this instance)
	Err     float64            `json:"err"`   // failed answers per second
	P50     float64            `json:"p50"`   // execution, ms
	P99     float64            `json:"p99"`
	Hit     float64            `json:"hit"` // cache hit ratio, -1: no lookups
	Entries int                `json:"entries"`
	Changes float64            `json:"chg"` // change events per second
}

// Change is one event of the change stream.
type Change struct {
	Seq        uint64    `json:"seq"`
	Database   string    `json:"database"`
	Table      string    `json:"table"`
	Op         string    `json:"op"`
	Data       any       `json:"data"`
	Timestamp  time.Time `json:"timestamp"`
	SequenceID int64     `json:"sequence_id"`
}

// Letter is one dead letter.
type Letter struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	Ref        string    `json:"ref"`
	Queue      string    `json:"queue"`
	Reason     string    `json:"reason"`
	Deliveries int       `json:"deliveries"`
	Error      string    `json:"error"`
	Data       string    `json:"data"`
}

// Entry is one catalog entry.
type Entry struct {
	Ref         int64    `json:"ref"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Queue       string   `json:"queue"`
	Public      bool     `json:"public"`
	CacheTTLS   int      `json:"cache_ttl_s"`
	TimeoutMS   int64    `json:"timeout_ms"`
	Tables      []string `json:"tables"`
	Writes      bool     `json:"writes"`
	Direct      bool     `json:"direct"`
	Params      []string `json:"params"`
	SQL         string   `json:"sql"`
}
