package triggers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// Event is one recorded change.
type Event struct {
	// Seq is the event's sequence id. Ids are taken at insert and become
	// visible at commit, so an event may appear after one with a higher
	// id (its transaction committed later).
	Seq int64
	// Table is the table's name as configured (name or schema.name).
	Table string
	// Op is insert, update or delete.
	Op string
	// Data is {"new": row} for an insert, {"new": row, "old": row} for an
	// update and {"old": row} for a delete, compact. A row is an object of
	// its columns: integers as numbers, text as strings, NULL as null,
	// binary as "\x" and lowercase hex; booleans are true/false on
	// PostgreSQL but 1/0 on MySQL and SQLite, and dates and times are the
	// engine's own text for them.
	Data json.RawMessage
	// Time is when the change was recorded, by the database's clock.
	Time time.Time
}

// markChunk bounds the ids one UPDATE lists, well within every engine's
// limit on bound parameters.
const markChunk = 500

// Fetch returns up to limit events not yet delivered whose sequence id is
// greater than after, in sequence order.
//
// after is for paging through a backlog. Because an event can become
// visible after events with higher ids (see Event.Seq), a caller that
// keeps after at the last id it published skips such late events; the
// loop that misses none fetches from 0, publishes in order, and marks
// exactly what it published delivered (MarkDelivered), so the next Fetch
// starts at whatever is still pending.
func Fetch(ctx context.Context, conn engines.Conn, engine string, after int64, limit int) ([]Event, error) {
	d, err := dialectFor(engine)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("triggers: fetch limit %d: want a positive number", limit)
	}
	q := `SELECT sequence_id, table_name, op, data, created_at FROM trigger_events
		WHERE ` + d.pending + ` AND sequence_id > ` + d.p(1) + ` ORDER BY sequence_id`
	args := []any{after}
	if engine == DB2 {
		q += " FETCH FIRST " + strconv.Itoa(limit) + " ROWS ONLY"
	} else {
		q += " LIMIT " + d.p(2)
		args = append(args, limit)
	}
	res, err := conn.Run(ctx, []engines.Statement{{SQL: q, Args: args}})
	if err != nil {
		return nil, fmt.Errorf("triggers: fetch: %w", err)
	}
	var rows []struct {
		Seq   json.RawMessage `json:"sequence_id"`
		Table string          `json:"table_name"`
		Op    string          `json:"op"`
		Data  json.RawMessage `json:"data"`
		Time  string          `json:"created_at"`
	}
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		return nil, fmt.Errorf("triggers: fetch: %w", err)
	}
	events := make([]Event, len(rows))
	for i, r := range rows {
		e := Event{Table: r.Table, Op: r.Op}
		if e.Seq, err = parseSeq(r.Seq); err == nil {
			if e.Data, err = parseData(r.Data); err == nil {
				e.Time, err = parseTime(r.Time)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("triggers: fetch: event %s: %w", r.Seq, err)
		}
		events[i] = e
	}
	return events, nil
}

// parseSeq reads a sequence id: a JSON number, or a string of digits past
// 2^53.
func parseSeq(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sequence id %s: %w", raw, err)
	}
	return n, nil
}

// parseData reads data as embedded JSON (PostgreSQL's jsonb) or as a JSON
// string holding the document (a text column), and compacts it.
func parseData(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		raw = []byte(s)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return b.Bytes(), nil
}

// timeLayouts are the forms created_at arrives in: RFC 3339 from the
// engines' timestamp mapping or SQLite's strftime, else zoneless text,
// taken as UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("created_at %q: not a timestamp", s)
}

// MarkDelivered marks the events with the given sequence ids delivered, in
// one transaction. It takes the ids rather than "everything up to" one, as
// an event with a lower id may have committed after the fetch (see
// Event.Seq) and must not be marked unseen.
func MarkDelivered(ctx context.Context, conn engines.Conn, engine string, seqs []int64) error {
	d, err := dialectFor(engine)
	if err != nil {
		return err
	}
	if len(seqs) == 0 {
		return nil
	}
	var stmts []engines.Statement
	for chunk := range slices.Chunk(seqs, markChunk) {
		var q strings.Builder
		q.WriteString("UPDATE trigger_events SET delivered = " + d.done + " WHERE sequence_id IN (")
		args := make([]any, len(chunk))
		for i, s := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString(d.p(i + 1))
			args[i] = s
		}
		q.WriteString(")")
		stmts = append(stmts, engines.Statement{SQL: q.String(), Args: args})
	}
	if _, err := conn.Run(ctx, stmts); err != nil {
		return fmt.Errorf("triggers: mark delivered: %w", err)
	}
	return nil
}

// Prune deletes delivered events recorded more than olderThan ago, by the
// database's clock. Pending events are kept whatever their age.
func Prune(ctx context.Context, conn engines.Conn, engine string, olderThan time.Duration) error {
	d, err := dialectFor(engine)
	if err != nil {
		return err
	}
	if olderThan < 0 {
		return errors.New("triggers: prune: negative age")
	}
	q := "DELETE FROM trigger_events WHERE " + d.sent + " AND created_at < " + d.cutoff
	if _, err := conn.Run(ctx, []engines.Statement{{SQL: q, Args: []any{d.age(olderThan.Seconds())}}}); err != nil {
		return fmt.Errorf("triggers: prune: %w", err)
	}
	return nil
}
