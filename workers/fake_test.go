package workers

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
)

// fakeEngine is an engines.Engine whose connections answer with script,
// except for dqm's own idempotency statements, which it keeps in memory
// (committed only when the whole statement list succeeds).
type fakeEngine struct {
	mu      sync.Mutex
	script  func(ctx context.Context, stmts []engines.Statement) (*engines.Result, error)
	applied map[string]bool // ids committed; a test may set one (a record without outcome)
	records map[string]engines.Recorded
	opens   int
	runs    int // client statement lists run (dqm's own reads excluded)
}

func (e *fakeEngine) Name() string           { return "fake" }
func (e *fakeEngine) System() engines.System { return fakeSystem{e: e} }

// fakeSystem answers the idempotency lookup from the engine's memory and
// records through a statement fakeConn.Run recognises; the worker needs
// nothing else of engines.System (the embedded nil interface panics if a
// test reaches for more).
type fakeSystem struct {
	engines.System
	e *fakeEngine
}

func (s fakeSystem) Applied(_ context.Context, conn engines.Conn, id string) (engines.Recorded, bool, error) {
	if conn.(*fakeConn).closed {
		panic("applied on a closed connection")
	}
	s.e.mu.Lock()
	defer s.e.mu.Unlock()
	if rec, ok := s.e.records[id]; ok {
		return rec, true, nil
	}
	return engines.Recorded{Ref: refWrite}, s.e.applied[id], nil
}

func (s fakeSystem) Record(id string, ref int64, hash string) engines.Statement {
	return engines.Statement{SQL: "INSERT INTO dqm_requests (request_id, ref, body_hash) VALUES (?, ?, ?)", Args: []any{id, ref, hash}}
}

func (s fakeSystem) Outcome(id string, outcome func(*engines.Result) []byte) engines.Statement {
	return engines.Statement{SQL: "UPDATE dqm_requests SET outcome = ? WHERE request_id = ?",
		Finish: func(res *engines.Result) []any { return []any{string(outcome(res)), id} }}
}
func (e *fakeEngine) Style() engines.PlaceholderStyle { return engines.Question }

func (e *fakeEngine) Open(context.Context, string, engines.Options) (engines.Conn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opens++
	return &fakeConn{e: e}, nil
}

func (e *fakeEngine) counts() (opens, runs int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.opens, e.runs
}

type fakeConn struct {
	e      *fakeEngine
	closed bool
}

func (c *fakeConn) Run(ctx context.Context, stmts []engines.Statement) (*engines.Result, error) {
	if c.closed {
		panic("run on a closed connection")
	}
	e := c.e
	var record []any
	var finish engines.Statement
	client := stmts
	if strings.HasPrefix(stmts[0].SQL, "INSERT INTO dqm_requests") {
		record, client = stmts[0].Args, stmts[1:len(stmts)-1]
		finish = stmts[len(stmts)-1]
	}
	e.mu.Lock()
	e.runs++
	script := e.script
	e.mu.Unlock()
	res, err := script(ctx, client)
	if err != nil {
		return nil, err
	}
	if record != nil {
		res.Affected = append([]int64{1}, res.Affected...)
		id := record[0].(string)
		rec := engines.Recorded{Ref: record[1].(int64), BodyHash: record[2].(string),
			Outcome: []byte(finish.Bind(res).Args[0].(string))}
		res.Affected = append(res.Affected, 1)
		e.mu.Lock()
		e.applied[id] = true
		if e.records == nil {
			e.records = map[string]engines.Recorded{}
		}
		e.records[id] = rec
		e.mu.Unlock()
	}
	return res, nil
}

func (c *fakeConn) Ping(context.Context) error { return nil }
func (c *fakeConn) Close() error               { c.closed = true; return nil }

// rows answers every statement with the same rows.
func rows(json string, n int) func(context.Context, []engines.Statement) (*engines.Result, error) {
	return func(_ context.Context, stmts []engines.Statement) (*engines.Result, error) {
		aff := make([]int64, len(stmts))
		for i := range aff {
			aff[i] = 1
		}
		return &engines.Result{Columns: []string{"n"}, Rows: []byte(json), RowCount: n, Affected: aff}, nil
	}
}

// fakeMsg is a pulled jetstream.Msg that records how it was settled.
type fakeMsg struct {
	subject string
	header  nats.Header
	data    []byte

	mu       sync.Mutex
	settled  []string // ack, nak, term, in order
	progress int
}

func newFakeMsg(m *nats.Msg) *fakeMsg {
	return &fakeMsg{subject: m.Subject, header: m.Header, data: m.Data}
}

func (m *fakeMsg) Metadata() (*jetstream.MsgMetadata, error) {
	return &jetstream.MsgMetadata{Sequence: jetstream.SequencePair{Stream: 7, Consumer: 3}, NumDelivered: 1, Consumer: "demo-fast", Stream: "DQM_DEMO"}, nil
}
func (m *fakeMsg) Data() []byte                     { return m.data }
func (m *fakeMsg) Headers() nats.Header             { return m.header }
func (m *fakeMsg) Subject() string                  { return m.subject }
func (m *fakeMsg) Reply() string                    { return "" }
func (m *fakeMsg) Ack() error                       { return m.settle("ack") }
func (m *fakeMsg) DoubleAck(context.Context) error  { return m.settle("ack") }
func (m *fakeMsg) Nak() error                       { return m.settle("nak") }
func (m *fakeMsg) NakWithDelay(time.Duration) error { return m.settle("nak") }
func (m *fakeMsg) Term() error                      { return m.settle("term") }
func (m *fakeMsg) TermWithReason(string) error      { return m.settle("term") }
func (m *fakeMsg) InProgress() error                { m.mu.Lock(); m.progress++; m.mu.Unlock(); return nil }
func (m *fakeMsg) settle(how string) error {
	m.mu.Lock()
	m.settled = append(m.settled, how)
	m.mu.Unlock()
	return nil
}
func (m *fakeMsg) outcome() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.settled, ",")
}
