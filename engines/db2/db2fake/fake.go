// Package db2fake is a database/sql driver that answers the statements
// dqm sends DB2 (the engine's own, the System's and a test's few client
// queries) from memory, with go_ibm_db's value types and error shape: the
// IBM driver cannot be built here, so tests register it under go_ibm_db
// and drive the whole DB2 path. Test code only.
package db2fake

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Query is one row of the fake's catalog table.
type Query struct {
	Ref               int64
	Name, SQL, Queue  string
	Public            bool
	Tables            string
	TimeoutMS, TTLSec int32
}

// Event is one row of the fake's trigger_events.
type Event struct {
	Seq             int64
	Table, Op, Data string
	Delivered       bool
}

// DB is one fake database. Its fields are guarded by its lock; read them
// through the methods.
type DB struct {
	mu       sync.Mutex
	created  map[string]bool     // tables and indexes by upper-case name
	triggers map[string]string   // by upper-case name, the DDL
	requests map[string]*request // dqm_requests
	items    map[int64]string    // ITEMS (ID, NAME)
	events   []Event
	queries  []Query
	prepared []string
}

var (
	regMu     sync.Mutex
	registers = map[string]bool{}
	databases = map[string]*DB{}
)

// Register registers the fake driver under name, once.
func Register(name string) {
	regMu.Lock()
	defer regMu.Unlock()
	if !registers[name] {
		registers[name] = true
		sql.Register(name, fakeDriver{})
	}
}

// Database returns the fake database a DSN's DATABASE= names, created
// with an ITEMS table and the given catalog rows on first use.
func Database(name string, queries ...Query) *DB {
	regMu.Lock()
	defer regMu.Unlock()
	db, ok := databases[name]
	if !ok {
		db = &DB{created: map[string]bool{"ITEMS": true}, triggers: map[string]string{},
			requests: map[string]*request{}, items: map[int64]string{}}
		databases[name] = db
	}
	db.mu.Lock()
	db.queries = append(db.queries, queries...)
	db.mu.Unlock()
	return db
}

// Prepared lists every statement prepared so far, in order.
func (db *DB) Prepared() []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.prepared)
}

// Created reports whether a table or index of that (upper-case) name exists.
func (db *DB) Created(name string) bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.created[name]
}

// Triggers returns the installed triggers' DDL by upper-case name.
func (db *DB) Triggers() map[string]string {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[string]string, len(db.triggers))
	for k, v := range db.triggers {
		out[k] = v
	}
	return out
}

// request is one row of dqm_requests.
type request struct {
	ref      int64
	bodyHash string
	outcome  any // nil until the write's last statement stores it
}

// Requests returns the recorded request ids and their refs.
func (db *DB) Requests() map[string]int64 {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[string]int64, len(db.requests))
	for k, v := range db.requests {
		out[k] = v.ref
	}
	return out
}

// Items returns the ITEMS table.
func (db *DB) Items() map[int64]string {
	db.mu.Lock()
	defer db.mu.Unlock()
	out := make(map[int64]string, len(db.items))
	for k, v := range db.items {
		out[k] = v
	}
	return out
}

// Events returns trigger_events.
func (db *DB) Events() []Event {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.events)
}

// DiagError has go_ibm_db's *Error shape, which the engine reads.
type DiagError struct {
	APIName string
	Diag    []DiagRecord
}

// DiagRecord is one CLI diagnostic record.
type DiagRecord struct {
	State       string
	NativeError int32
	Message     string
}

func (e *DiagError) Error() string { return e.APIName + ": " + e.Diag[0].Message }

func diag(state string, code int32, msg string) error {
	return &DiagError{APIName: "SQLExecute", Diag: []DiagRecord{{state, code,
		fmt.Sprintf("[IBM][CLI Driver][DB2/LINUXX8664] %s SQLSTATE=%s", msg, state)}}}
}

type fakeDriver struct{}

func (fakeDriver) Open(dsn string) (driver.Conn, error) {
	name := ""
	for _, kv := range strings.Split(dsn, ";") {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.EqualFold(k, "DATABASE") {
			name = v
		}
	}
	return &conn{db: Database(name)}, nil
}

type conn struct{ db *DB }

func (c *conn) Prepare(q string) (driver.Stmt, error) {
	c.db.mu.Lock()
	c.db.prepared = append(c.db.prepared, q)
	c.db.mu.Unlock()
	return &stmt{db: c.db, q: q}, nil
}
func (c *conn) Close() error              { return nil }
func (c *conn) Begin() (driver.Tx, error) { return tx{}, nil }

// tx applies every statement at once: enough for dqm's transactions here.
type tx struct{}

func (tx) Commit() error   { return nil }
func (tx) Rollback() error { return nil }

type stmt struct {
	db *DB
	q  string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	r, err := s.db.answer(s.q, args)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(r.affected), nil
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	r, err := s.db.answer(s.q, args)
	if err != nil {
		return nil, err
	}
	return r, nil
}

type result struct {
	cols, types []string
	rows        [][]driver.Value
	affected    int64
}

func (r *result) Columns() []string                       { return r.cols }
func (r *result) Close() error                            { return nil }
func (r *result) ColumnTypeDatabaseTypeName(i int) string { return r.types[i] }
func (r *result) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

// word is the n-th space-separated word of q (from 0), without quotes.
func word(q string, n int) string {
	f := strings.Fields(q)
	if n >= len(f) {
		return ""
	}
	w := strings.Trim(f[n], `"(`)
	if i := strings.LastIndex(w, `"."`); i >= 0 {
		w = w[i+3:]
	}
	return strings.ToUpper(w)
}

// call is one statement the fake answers.
type call struct {
	q, u string // the statement, and its words upper-cased and single-spaced
	args []driver.Value
}

func (c call) str(i int) string { s, _ := c.args[i].(string); return s }

func (c call) num(i int) int64 {
	switch v := c.args[i].(type) {
	case int64:
		return v
	case string:
		var n int64
		fmt.Sscan(v, &n)
		return n
	}
	return 0
}

// errNoMatch: the statement is not one an answer function knows.
var errNoMatch = errors.New("db2fake: no match")

func (db *DB) answer(q string, args []driver.Value) (*result, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	q = stripComments(q)
	c := call{q: q, u: strings.ToUpper(strings.Join(strings.Fields(q), " ")), args: args}
	for _, answer := range []func(call) (*result, error){db.answerSchema, db.answerSystem, db.answerData} {
		if r, err := answer(c); err != errNoMatch {
			return r, err
		}
	}
	return nil, diag("42601", -104, "SQL0104N  An unexpected token was found: "+q)
}

// answerSchema answers the session and DDL statements.
func (db *DB) answerSchema(c call) (*result, error) {
	switch {
	case strings.Contains(c.u, "MON_GET_APPLICATION_HANDLE"):
		return &result{cols: []string{"1"}, types: []string{"BIGINT"}, rows: [][]driver.Value{{int64(1)}}}, nil
	case c.u == "VALUES 1":
		return &result{cols: []string{"1"}, types: []string{"INTEGER"}, rows: [][]driver.Value{{int32(1)}}}, nil
	case strings.HasPrefix(c.u, "CREATE TABLE "), strings.HasPrefix(c.u, "CREATE INDEX "):
		name := word(c.q, 2)
		if db.created[name] {
			return nil, diag("42710", -601, "SQL0601N  The name of the object to be created is identical to the existing name \""+name+"\".")
		}
		db.created[name] = true
		return &result{}, nil
	case strings.HasPrefix(c.u, "CREATE OR REPLACE TRIGGER "):
		db.triggers[word(c.q, 4)] = c.q
		return &result{}, nil
	case strings.HasPrefix(c.u, "DROP TRIGGER "):
		name := word(c.q, 2)
		if _, ok := db.triggers[name]; !ok {
			return nil, diag("42704", -204, "SQL0204N  \""+name+"\" is an undefined name.")
		}
		delete(db.triggers, name)
		return &result{}, nil
	case strings.Contains(c.u, "FROM SYSCAT.COLUMNS"):
		r := &result{cols: []string{"COLNAME", "TYPENAME"}, types: []string{"VARCHAR", "VARCHAR"}}
		if db.created[c.str(len(c.args)-1)] {
			r.rows = [][]driver.Value{{"ID", "INTEGER"}, {"NAME", "VARCHAR"}}
		}
		return r, nil
	}
	return nil, errNoMatch
}

// answerSystem answers dqm's reads and writes of its own tables.
func (db *DB) answerSystem(c call) (*result, error) {
	switch {
	case strings.HasPrefix(c.u, "SELECT REF, NAME, DESCRIPTION"):
		r := &result{cols: []string{"REF", "NAME", "DESCRIPTION", "SQL_TEXT", "SQL_POSTGRES", "SQL_MYSQL", "SQL_SQLITE", "SQL_DB2",
			"QUEUE", "IS_PUBLIC", "TIMEOUT_MS", "CACHE_TTL_S", "TABLES_LIST", "IS_DIRECT", "PARAM_TYPES"},
			types: []string{"BIGINT", "VARCHAR", "CLOB", "CLOB", "CLOB", "CLOB", "CLOB", "CLOB", "VARCHAR", "BOOLEAN", "INTEGER", "INTEGER", "VARCHAR", "BOOLEAN", "VARCHAR"}}
		for _, e := range db.queries {
			r.rows = append(r.rows, []driver.Value{e.Ref, e.Name, "", e.SQL, nil, nil, nil, nil, e.Queue, e.Public, e.TimeoutMS, e.TTLSec, e.Tables, false, nil})
		}
		return r, nil
	case strings.HasPrefix(c.u, "SELECT BODY_HASH FROM DQM_REQUESTS WHERE 1 = 0"), strings.HasPrefix(c.u, "SELECT OUTCOME FROM DQM_REQUESTS WHERE 1 = 0"),
		strings.HasPrefix(c.u, "SELECT IS_DIRECT FROM QUERIES WHERE 1 = 0"), strings.HasPrefix(c.u, "SELECT PARAM_TYPES FROM QUERIES WHERE 1 = 0"):
		return &result{cols: []string{word(c.q, 1)}, types: []string{"VARCHAR"}}, nil // the columns exist
	case strings.HasPrefix(c.u, "SELECT REF, BODY_HASH, OUTCOME FROM DQM_REQUESTS WHERE REQUEST_ID = ?"):
		r := &result{cols: []string{"REF", "BODY_HASH", "OUTCOME"}, types: []string{"BIGINT", "VARCHAR", "CLOB"}}
		if rec, ok := db.requests[c.str(0)]; ok {
			r.rows = [][]driver.Value{{rec.ref, rec.bodyHash, rec.outcome}}
		}
		return r, nil
	case strings.HasPrefix(c.u, "INSERT INTO DQM_REQUESTS (REQUEST_ID, REF, BODY_HASH) VALUES (?, ?, ?)"):
		if _, ok := db.requests[c.str(0)]; ok {
			return nil, diag("23505", -803, "SQL0803N  One or more values in the INSERT statement are not valid.")
		}
		db.requests[c.str(0)] = &request{ref: c.num(1), bodyHash: c.str(2)}
		return &result{affected: 1}, nil
	case strings.HasPrefix(c.u, "UPDATE DQM_REQUESTS SET OUTCOME = ? WHERE REQUEST_ID = ?"):
		rec, ok := db.requests[c.str(1)]
		if !ok {
			return &result{}, nil
		}
		rec.outcome = c.args[0]
		return &result{affected: 1}, nil
	case strings.HasPrefix(c.u, "DELETE FROM TRIGGER_EVENTS"), strings.HasPrefix(c.u, "DELETE FROM DQM_REQUESTS"):
		return &result{}, nil
	}
	return nil, errNoMatch
}

// answerData answers the items table's statements and the events its
// insert trigger records.
func (db *DB) answerData(c call) (*result, error) {
	switch {
	case strings.HasPrefix(c.u, "INSERT INTO ITEMS (ID, NAME) VALUES (?, ?)"):
		id := c.num(0)
		db.items[id] = c.str(1)
		if _, ok := db.triggers["DQM_ITEMS_INS"]; ok {
			db.events = append(db.events, Event{Seq: int64(len(db.events) + 1), Table: "items", Op: "insert",
				Data: fmt.Sprintf(`{"new":{"id":%d,"name":%q}}`, id, c.str(1))})
		}
		return &result{affected: 1}, nil
	case strings.HasPrefix(c.u, "SELECT ID, NAME FROM ITEMS WHERE ID = ?"):
		r := &result{cols: []string{"ID", "NAME"}, types: []string{"INTEGER", "VARCHAR"}}
		if name, ok := db.items[c.num(0)]; ok {
			r.rows = [][]driver.Value{{int32(c.num(0)), []byte(name)}}
		}
		return r, nil
	case strings.HasPrefix(c.u, "SELECT SEQUENCE_ID, TABLE_NAME, OP, DATA, CREATED_AT FROM TRIGGER_EVENTS"):
		r := &result{cols: []string{"SEQUENCE_ID", "TABLE_NAME", "OP", "DATA", "CREATED_AT"},
			types: []string{"BIGINT", "VARCHAR", "VARCHAR", "CLOB", "TIMESTAMP"}}
		for _, e := range db.events {
			if !e.Delivered && e.Seq > c.num(0) {
				r.rows = append(r.rows, []driver.Value{e.Seq, e.Table, e.Op, e.Data, time.Now()})
			}
		}
		return r, nil
	case strings.HasPrefix(c.u, "UPDATE TRIGGER_EVENTS SET DELIVERED = 1 WHERE SEQUENCE_ID IN ("):
		for i := range c.args {
			for j := range db.events {
				if db.events[j].Seq == c.num(i) {
					db.events[j].Delivered = true
				}
			}
		}
		return &result{affected: int64(len(c.args))}, nil
	}
	return nil, errNoMatch
}

// stripComments drops the "--" lines a script's statement may begin with.
func stripComments(q string) string {
	var keep []string
	for _, l := range strings.Split(q, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			keep = append(keep, l)
		}
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}
