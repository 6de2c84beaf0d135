package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/deadletter"
	"github.com/dqmhq/dqm/schemas"
)

// lettersShown bounds the dead letters one listing returns.
const lettersShown = 200

// Mount registers the pages and the data endpoints with handle — the
// REST adapter's, so /api/console/... count against http.max_in_flight
// like every /api/ request. Every data endpoint is behind gate
// (ingress.REST.AdminOnly, or Loopback without auth); the pages hold no
// data and ask the browser for a token, so with auth on only the data
// needs it. query is the "try it" endpoint (ingress.REST.AdminQuery).
func (c *Console) Mount(handle func(pattern string, h http.Handler), gate func(http.Handler) http.Handler, query http.Handler) {
	page := func(h http.Handler) http.Handler { return h }
	if c.cfg.AuthMode == AuthLoopback {
		page = Loopback
	}
	handle("/console", page(only("GET", http.HandlerFunc(c.page))))
	handle("/console/{page}", page(only("GET", http.HandlerFunc(c.page))))
	handle("/console/assets/", page(only("GET", assets())))
	data := func(method, path string, h http.HandlerFunc) {
		var hh http.Handler = h
		if method == "POST" {
			hh = CrossOrigin(hh)
		}
		handle(path, only(method, gate(hh)))
	}
	data("GET", "/api/console/state", c.getState)
	data("GET", "/api/console/history", c.getHistory)
	data("GET", "/api/console/stream", c.stream)
	data("GET", "/api/console/changes", c.changes)
	data("GET", "/api/console/catalog", c.getCatalog)
	data("GET", "/api/console/deadletters", c.getLetters)
	data("POST", "/api/console/deadletters/replay", c.replay)
	data("POST", "/api/console/deadletters/purge", c.purge)
	data("POST", "/api/console/query", query.ServeHTTP)
}

// only answers other methods with the JSON 405 (HEAD is GET's).
func only(method string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", method)
			fail(w, schemas.Errorf(schemas.CodeMethod, "use "+method+" for "+r.URL.Path))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

func (c *Console) getState(w http.ResponseWriter, _ *http.Request) {
	st, _ := c.current(^uint64(0))
	writeJSON(w, st)
}

func (c *Console) getHistory(w http.ResponseWriter, r *http.Request) {
	after, err := uintParam(r, "after")
	if err != nil {
		fail(w, err)
		return
	}
	_, pts := c.current(after)
	writeJSON(w, map[string]any{"interval_ms": c.cfg.Interval.Milliseconds(), "points": pts})
}

func uintParam(r *http.Request, name string) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, schemas.Errorf(schemas.CodeBadRequest, name+" must be a non-negative integer")
	}
	return n, nil
}

// database reads the database query parameter or body field: one this
// instance serves.
func (c *Console) database(name string) error {
	if name == "" {
		return schemas.Errorf(schemas.CodeBadRequest, "database is required")
	}
	if !slices.Contains(c.dbs, name) {
		return schemas.Errorf(schemas.CodeInvalidDatabase, "no database "+strconv.Quote(name)+" on this instance")
	}
	return nil
}

func (c *Console) getCatalog(w http.ResponseWriter, r *http.Request) {
	db := r.URL.Query().Get("database")
	if err := c.database(db); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, map[string]any{"database": db, "entries": c.entries(db)})
}

// entries describes db's catalog as this instance has it loaded.
func (c *Console) entries(db string) []Entry {
	out := []Entry{}
	var cat *catalog.Catalog
	if c.cfg.Local != nil {
		if l := c.cfg.Local(db); l != nil {
			cat = l.Catalog()
		}
	}
	if cat == nil {
		return out
	}
	for _, ref := range cat.Refs() {
		q, _ := cat.Lookup(ref)
		e := Entry{Ref: q.Ref, Name: q.Name, Description: q.Description, Queue: q.Queue, Public: q.Public,
			CacheTTLS: q.CacheTTLS, TimeoutMS: q.Timeout.Milliseconds(), Tables: nonNil(q.Tables), Writes: q.Writes,
			Direct: q.Direct, Params: nonNil(q.Template.Names()), SQL: q.SQL}
		if e.SQL == "" {
			e.SQL = q.SQLByEngine[cat.Engine]
		}
		out = append(out, e)
	}
	return out
}

func (c *Console) getLetters(w http.ResponseWriter, r *http.Request) {
	db := r.URL.Query().Get("database")
	if err := c.database(db); err != nil {
		fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	head, more, err := deadletter.Head(ctx, c.cfg.JS, db, lettersShown)
	if err != nil {
		fail(w, schemas.Errorf(schemas.CodeUnavailable, "dead letters of "+db+" could not be read: "+err.Error()))
		return
	}
	out := make([]Letter, 0, len(head))
	for _, l := range head {
		data := string(l.Msg.Data)
		if len(data) > 2000 {
			data = data[:2000] + "…"
		}
		out = append(out, Letter{Seq: l.Seq, Time: l.Time, RequestID: l.RequestID, Ref: l.Ref, Queue: l.Subject,
			Reason: l.Reason, Deliveries: l.Deliveries, Error: l.Error, Data: data})
	}
	writeJSON(w, map[string]any{"database": db, "letters": out, "more": more})
}

// action is the body of replay and purge: some letters, or all of them
// said explicitly.
type action struct {
	Database string   `json:"database"`
	IDs      []string `json:"ids"`  // replay: request ids
	Seqs     []uint64 `json:"seqs"` // purge: sequences in DQM_DLQ
	All      bool     `json:"all"`
}

func (c *Console) readAction(w http.ResponseWriter, r *http.Request, some func(action) bool) (action, bool) {
	var a action
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.maxBody()))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		err = schemas.Errorf(schemas.CodeTooLarge, fmt.Sprintf("request body over %d bytes (http.max_body_bytes)", tooBig.Limit))
	case err != nil:
		err = schemas.Errorf(schemas.CodeBadRequest, "request body could not be read")
	default:
		d := json.NewDecoder(bytes.NewReader(body))
		d.DisallowUnknownFields()
		if d.Decode(&a) != nil {
			err = schemas.Errorf(schemas.CodeBadRequest, "body must be JSON: {\"database\": ..., and the letters or \"all\": true}")
		} else if err = c.database(a.Database); err == nil && a.All == some(a) {
			err = schemas.Errorf(schemas.CodeBadRequest, "name the letters, or say \"all\": true (not both)")
		}
	}
	if err != nil {
		fail(w, err)
		return a, false
	}
	return a, true
}

func (c *Console) maxBody() int64 {
	if c.cfg.MaxBodyBytes > 0 {
		return c.cfg.MaxBodyBytes
	}
	return 1 << 20
}

func (c *Console) replay(w http.ResponseWriter, r *http.Request) {
	a, ok := c.readAction(w, r, func(a action) bool { return len(a.IDs) > 0 })
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	done, err := deadletter.Replay(ctx, c.cfg.JS, a.Database, a.IDs)
	if err != nil {
		fail(w, schemas.Errorf(schemas.CodeUnavailable, fmt.Sprintf("replayed %d, then: %v", len(done), err)))
		return
	}
	c.cfg.Log.Info("console: dead letters replayed", "db", a.Database, "count", len(done))
	writeJSON(w, map[string]any{"database": a.Database, "replayed": nonNil(done)})
}

func (c *Console) purge(w http.ResponseWriter, r *http.Request) {
	a, ok := c.readAction(w, r, func(a action) bool { return len(a.Seqs) > 0 })
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	var n uint64
	var err error
	if a.All {
		n, err = deadletter.Purge(ctx, c.cfg.JS, a.Database)
	} else {
		var k int
		k, err = deadletter.Delete(ctx, c.cfg.JS, a.Database, a.Seqs)
		n = uint64(k)
	}
	if err != nil {
		fail(w, schemas.Errorf(schemas.CodeUnavailable, "purge: "+err.Error()))
		return
	}
	c.cfg.Log.Info("console: dead letters purged", "db", a.Database, "count", n)
	writeJSON(w, map[string]any{"database": a.Database, "purged": n})
}
