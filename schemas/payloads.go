package schemas

import (
	"encoding/json"
	"errors"

	"github.com/dqmhq/dqm/internal/jsonw"
)

// Params is the wire form of a request's parameters: type group (INTEGER,
// STRING, BOOLEAN, FLOAT, TEXT, DATE, TIME, DATETIME, TIMESTAMP) → name →
// JSON value.
type Params map[string]map[string]json.RawMessage

// QueryRequest is the data of an io.dqm.query.request.v1 event.
type QueryRequest struct {
	QueryRef int64  `json:"query_ref"`
	Params   Params `json:"params,omitempty"`
}

// Result is the data of an io.dqm.query.result.v1 event and, without
// Status, the REST body of one query. Success and failure bodies have
// different shapes; MarshalJSON writes the right one.
type Result struct {
	Success         bool            `json:"success"`
	QueryRef        int64           `json:"query_ref"`
	Database        string          `json:"database"`
	Description     string          `json:"description,omitempty"`
	Rows            json.RawMessage `json:"rows,omitempty"` // a JSON array of objects, columns in order
	RowCount        int             `json:"row_count"`
	ColumnCount     int             `json:"column_count"`
	AffectedRows    []int64         `json:"affected_rows,omitempty"` // one per statement, for writes
	ExecutionTimeMS int64           `json:"execution_time_ms"`
	QueueUsed       string          `json:"queue_used,omitempty"`
	Cached          bool            `json:"cached"`
	CacheAgeMS      int64           `json:"cache_age_ms,omitempty"`
	Message         string          `json:"message,omitempty"`
	Error           Code            `json:"error,omitempty"`
	Status          int             `json:"status,omitempty"`
}

// Failure returns the failure body for err: its contract code, status and a
// client-safe message.
func Failure(db string, ref int64, err error) *Result {
	code := CodeOf(err)
	msg := "internal error"
	if e, ok := err.(interface{ ClientMessage() string }); ok {
		msg = e.ClientMessage()
	} else if code != CodeInternal {
		msg = err.Error()
		var e *Error
		if errors.As(err, &e) && e.Message != "" {
			msg = e.Message
		}
	}
	return &Result{QueryRef: ref, Database: db, Error: code, Message: msg, Status: code.Status()}
}

// MarshalJSON writes the body without reflection: the reply path runs it
// once per request.
func (r *Result) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the body to b.
func (r *Result) AppendJSON(b []byte) []byte {
	b = append(b, `{"success":`...)
	b = jsonw.Bool(b, r.Success)
	b = append(b, `,"query_ref":`...)
	b = jsonw.Int(b, r.QueryRef)
	b = append(b, `,"database":`...)
	b = jsonw.String(b, r.Database)
	if r.Success {
		if r.Description != "" {
			b = append(b, `,"description":`...)
			b = jsonw.String(b, r.Description)
		}
		b = append(b, `,"rows":`...)
		if len(r.Rows) == 0 {
			b = append(b, "[]"...)
		} else {
			b = append(b, r.Rows...)
		}
		b = append(b, `,"row_count":`...)
		b = jsonw.Int(b, int64(r.RowCount))
		b = append(b, `,"column_count":`...)
		b = jsonw.Int(b, int64(r.ColumnCount))
		if r.AffectedRows != nil {
			b = append(b, `,"affected_rows":[`...)
			for i, n := range r.AffectedRows {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsonw.Int(b, n)
			}
			b = append(b, ']')
		}
		b = append(b, `,"execution_time_ms":`...)
		b = jsonw.Int(b, r.ExecutionTimeMS)
		b = append(b, `,"queue_used":`...)
		b = jsonw.String(b, r.QueueUsed)
		b = append(b, `,"cached":`...)
		b = jsonw.Bool(b, r.Cached)
		if r.Cached {
			b = append(b, `,"cache_age_ms":`...)
			b = jsonw.Int(b, r.CacheAgeMS)
		}
	} else {
		b = append(b, `,"error":`...)
		b = jsonw.String(b, string(r.Error))
	}
	if r.Message != "" || !r.Success {
		b = append(b, `,"message":`...)
		b = jsonw.String(b, r.Message)
	}
	if r.Status != 0 {
		b = append(b, `,"status":`...)
		b = jsonw.Int(b, int64(r.Status))
	}
	return append(b, '}')
}
