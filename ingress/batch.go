package ingress

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dqmhq/dqm/internal/jsonw"
	"github.com/dqmhq/dqm/schemas"
)

// batch is the body of /queries.
type batch struct {
	Database *string   `json:"database"`
	Queries  *[]single `json:"queries"`
}

// batchBody is the reply of /queries.
type batchBody struct {
	Success         bool              `json:"success"`
	Database        string            `json:"database"`
	Results         []*schemas.Result `json:"results"`
	ExecutionTimeMS int64             `json:"execution_time_ms"`
	Message         string            `json:"message,omitempty"`
}

func (r *REST) queries(sc scope) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) { r.batch(w, req, sc) }
}

func (r *REST) batch(w http.ResponseWriter, req *http.Request, sc scope) {
	start := time.Now()
	if refuseBatchKey(w, req) {
		return
	}
	var body batch
	db, private, _, ok := r.open(w, req, sc, &body, &body.Database)
	if !ok {
		return
	}
	if (sc != scopeToken && body.Database == nil) || body.Queries == nil {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "database and queries are required"), db, 0)
		return
	}
	list := *body.Queries
	cat, ok := r.dbs.Catalog(db)
	if !ok {
		writeError(w, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection"), db, 0)
		return
	}
	if len(list) == 0 {
		writeJSON(w, http.StatusOK, batchBody{Database: db, Results: []*schemas.Result{}, Message: "no queries in the request"})
		return
	}
	if cat == nil {
		writeError(w, schemas.Errorf(schemas.CodeUnavailable, "database "+db+" is not ready"), db, 0)
		return
	}
	// Validate every entry and find the distinct queries before running any.
	type job struct {
		v   valid
		p   schemas.Params
		res *schemas.Result
	}
	var jobs []*job
	index := make([]int, len(list)) // entry → job
	byKey := map[string]int{}
	results := make([]*schemas.Result, len(list))
	for i, e := range list {
		if e.QueryRef == nil {
			writeError(w, schemas.Errorf(schemas.CodeBadRequest, fmt.Sprintf("queries[%d]: query_ref is required", i)), db, 0)
			return
		}
		v, err := r.validate(db, *e.QueryRef, e.Params, private)
		if errors.Is(err, schemas.ErrQueryNotFound) {
			results[i] = schemas.Failure(db, *e.QueryRef, err)
			index[i] = -1
			continue
		}
		if err != nil {
			writeError(w, &schemas.Error{Code: schemas.CodeOf(err), Message: fmt.Sprintf("queries[%d]: %v", i, message(err))}, db, *e.QueryRef)
			return
		}
		key := strconv.FormatInt(v.q.Ref, 10) + string(v.canon)
		j, seen := byKey[key]
		if !seen {
			j = len(jobs)
			byKey[key] = j
			jobs = append(jobs, &job{v: v, p: e.Params})
		}
		index[i] = j
	}
	if len(jobs) > r.cfg.MaxQueriesPerRequest {
		writeError(w, schemas.Errorf(schemas.CodeTooMany, fmt.Sprintf("%d distinct queries; at most %d per request", len(jobs), r.cfg.MaxQueriesPerRequest)), db, 0)
		return
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { j.res = &r.send(req.Context(), db, j.v, j.p, "", "").Result })
	}
	wg.Wait()
	for i := range list {
		if index[i] >= 0 {
			results[i] = jobs[index[i]].res
		}
	}
	r.writeBatch(w, db, results, start)
}

// refuseBatchKey answers 400 to a batch with an Idempotency-Key. One key
// is one request's outcome; a batch is many. Derived keys per entry would
// make a retry of a changed batch replay entries it no longer means.
func refuseBatchKey(w http.ResponseWriter, req *http.Request) bool {
	if _, ok := req.Header[headerIdempotencyKey]; !ok {
		return false
	}
	writeError(w, schemas.Errorf(schemas.CodeBadRequest,
		"Idempotency-Key is not accepted on batch endpoints: send each write to its single-query endpoint with its own key"), "", 0)
	return true
}

// writeBatch writes the batch body. Each distinct result is encoded once
// and its size counted at every position it appears in before anything is
// built, so a batch of many duplicates of a large result is refused (413,
// the whole batch) without the body ever existing in memory; the queries
// have run once and are not run again.
func (r *REST) writeBatch(w http.ResponseWriter, db string, results []*schemas.Result, start time.Time) {
	enc := make(map[*schemas.Result][]byte)
	success := true
	total := int64(128 + len(db))
	for i, res := range results {
		b, ok := enc[res]
		if !ok {
			if res.Status == 0 {
				res.Status = res.Error.Status()
			}
			b = res.AppendJSON(make([]byte, 0, 256+len(res.Rows)))
			enc[res] = b
		}
		success = success && res.Success
		total += int64(len(b)) + 1
		if total > r.cfg.MaxResponseBytes {
			writeError(w, schemas.Errorf(schemas.CodeTooLarge, fmt.Sprintf(
				"batch response over http.max_response_bytes (%d bytes) at results[%d] of %d; "+
					"the whole batch is refused (its queries ran once and are not re-run): split it or narrow its queries",
				r.cfg.MaxResponseBytes, i, len(results))), db, 0)
			return
		}
	}
	b := make([]byte, 0, total)
	b = append(b, `{"success":`...)
	b = jsonw.Bool(b, success)
	b = append(b, `,"database":`...)
	b = jsonw.String(b, db)
	b = append(b, `,"results":[`...)
	for i, res := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, enc[res]...)
	}
	b = append(b, `],"execution_time_ms":`...)
	b = jsonw.Int(b, time.Since(start).Milliseconds())
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
