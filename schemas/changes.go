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
type Invalidation struct {
	Database   string  `json:"database"`
	Table      string  `json:"table"`
	SequenceID int64   `json:"sequence_id"`
	QueryRefs  []int64 `json:"query_refs,omitempty"`
}
