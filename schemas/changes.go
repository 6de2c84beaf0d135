package schemas

import (
	"encoding/json"
	"time"
)

// Change is the data of an io.dqm.change.v1 event on
// dqm.<name>.changes.<table>.<op> (README, "Change events").
type Change struct {
	Database   string          `json:"database"`
	Table      string          `json:"table"`
	Op         string          `json:"op"` // insert, update, delete
	Data       json.RawMessage `json:"data"`
	Timestamp  time.Time       `json:"timestamp"`
	SequenceID int64           `json:"sequence_id"`
}

// Invalidation is the message on dqm.<name>.invalidate.<table>.
// SequenceID is the change event's (0 for a write through dqm, which
// names the refs that wrote instead).
//
// Publisher and PublisherSeq number the invalidations of one publisher
// (one instance's Lead and workers for a database) 1, 2, 3, ... in the
// order they are published: a cache that sees a number skipped knows it
// lost one (core NATS is at most once). Both are optional: an
// invalidation without them is applied, never checked.
type Invalidation struct {
	Database     string  `json:"database"`
	Table        string  `json:"table"`
	SequenceID   int64   `json:"sequence_id"`
	QueryRefs    []int64 `json:"query_refs,omitempty"`
	Publisher    string  `json:"publisher,omitempty"`
	PublisherSeq uint64  `json:"publisher_seq,omitempty"`
}

// Watermark is the message on WatermarkSubject: every interval, each
// publisher of a database's invalidations tells every cache the last
// PublisherSeq it published. A cache that has not seen that number lost
// an invalidation; one that hears nothing from a publisher for two
// intervals may have lost anything. Final is the publisher's last
// watermark (it is landing): the cache forgets it without dropping
// anything.
//
// A cache assumes DefaultWatermarkInterval of a publisher until its first
// watermark gives IntervalMS.
type Watermark struct {
	Database     string    `json:"database"`
	Publisher    string    `json:"publisher"`
	PublisherSeq uint64    `json:"publisher_seq"`
	IntervalMS   int64     `json:"interval_ms"`
	Final        bool      `json:"final,omitempty"`
	Time         time.Time `json:"time"`
}

// DefaultWatermarkInterval is the interval of a publisher whose watermark
// a cache has not heard yet, and dqm's default (config cache.watermark_ms).
const DefaultWatermarkInterval = time.Second
