package ingress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/clientlink"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/schemas"
)

// Databases is what the REST adapter needs to know about the databases of
// this instance. The adapter also needs their compiled catalogs, whose
// type is the server's own (internal): NewREST takes a Databases that
// has a Catalog method too, as dqm's server has (see databases).
type Databases interface {
	// Status describes every database, for /api/conduit/status and /readyz.
	Status() map[string]DatabaseStatus
}

// databases is Databases with the catalogs, which only dqm's server can
// give: the adapter looks every query up in them.
type databases interface {
	Databases
	// Catalog returns a database's current catalog; ok is false for a
	// database dqm does not serve (the catalog is nil until loaded).
	Catalog(db string) (cat *catalog.Catalog, ok bool)
}

// DatabaseStatus is one database's entry in the status body.
type DatabaseStatus struct {
	Ready             bool      `json:"ready"`
	Engine            string    `json:"engine"`
	State             string    `json:"state"`
	QueryCacheEntries int       `json:"query_cache_entries"`
	LastHeartbeat     time.Time `json:"last_heartbeat"`
	// Queues are shown only to callers with a valid token.
	Queues []schemas.QueueStatus `json:"queues,omitempty"`
	// Stream is the database's request stream's replication (a database
	// whose stream has no leader is not ready).
	Stream *schemas.StreamReplication `json:"stream,omitempty"`
}

// RESTConfig tunes the adapter.
type RESTConfig struct {
	MaxBodyBytes         int64
	MaxQueriesPerRequest int
	// MaxResponseBytes bounds a response body, a batch's whole body
	// included (default 16 MiB); a larger one is answered 413 too_large.
	MaxResponseBytes int64
	// MaxInFlight bounds the /api/ requests served at once (default
	// 1024); past it a request is answered 503 unavailable, Retry-After 1.
	MaxInFlight int
	// Auth verifies bearer tokens; nil means auth is off and the auth
	// endpoints answer 401 saying so.
	Auth *Auth
	// QueueGrace is added to a query's timeout to make its deadline: the
	// time it may wait in the queue before it runs (default 2 s).
	QueueGrace time.Duration
}

// REST is the HTTP adapter: Hydrogen's Conduit endpoints and the
// GET path, on top of the Go client.
type REST struct {
	client *client.Client
	dbs    databases
	cfg    RESTConfig
	mux    *http.ServeMux
	slots  chan struct{} // one per /api/ request in flight
}

// NewREST returns the adapter's handler. It panics when dbs has no
// Catalog method (see Databases): without catalogs it could answer
// nothing.
func NewREST(c *client.Client, dbs Databases, cfg RESTConfig) *REST {
	withCatalogs, ok := dbs.(databases)
	if !ok {
		panic(fmt.Sprintf("ingress.NewREST: %T has no Catalog(db string) (*catalog.Catalog, bool) method", dbs))
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = config.DefaultMaxBodyBytes
	}
	if cfg.MaxQueriesPerRequest <= 0 {
		cfg.MaxQueriesPerRequest = config.DefaultMaxQueriesPerRequest
	}
	if cfg.QueueGrace <= 0 {
		cfg.QueueGrace = config.DefaultQueueGrace
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = config.DefaultMaxResponseBytes
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = config.DefaultMaxInFlight
	}
	r := &REST{client: c, dbs: withCatalogs, cfg: cfg, mux: http.NewServeMux(), slots: make(chan struct{}, cfg.MaxInFlight)}
	r.handle("POST", "/api/conduit/query", r.query(scopePublic))
	r.handle("POST", "/api/conduit/queries", r.queries(scopePublic))
	r.handle("POST", "/api/conduit/auth_query", r.query(scopeToken))
	r.handle("POST", "/api/conduit/auth_queries", r.queries(scopeToken))
	r.handle("POST", "/api/conduit/alt_query", r.query(scopeBody))
	r.handle("POST", "/api/conduit/alt_queries", r.queries(scopeBody))
	r.handle("GET", "/api/conduit/status", r.status)
	r.handle("GET", "/api/query/{database}/{query_ref}/{queue}/{params}", noHead(r.seedQuery))
	r.registerNamed()
	r.handle("GET", "/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": "ok"})
	})
	r.handle("GET", "/readyz", r.ready)
	r.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, schemas.Errorf(schemas.CodeNotFound, "no such endpoint"), "", 0)
	})
	return r
}

// Handle adds another endpoint (metrics, auth variants) to the adapter.
func (r *REST) Handle(pattern string, h http.Handler) { r.mux.Handle(pattern, h) }

// ServeHTTP serves the adapter. /api/ requests beyond MaxInFlight are
// answered 503 at once rather than queued in memory; health, readiness and
// metrics are not counted, so probes still answer under load.
func (r *REST) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !cleanPath(req.URL.Path) {
		// The mux would redirect it, with an HTML body (paths.go).
		writeError(w, schemas.Errorf(schemas.CodeNotFound, "no such endpoint: a path with . or .. segments or // is not served"), "", 0)
		return
	}
	if !strings.HasPrefix(req.URL.Path, "/api/") {
		r.mux.ServeHTTP(w, req)
		return
	}
	select {
	case r.slots <- struct{}{}:
		defer func() { <-r.slots }()
		r.mux.ServeHTTP(w, req)
	default:
		_, req.Pattern = r.mux.Handler(req) // counted under its route
		w.Header().Set("Retry-After", "1")
		writeError(w, schemas.Errorf(schemas.CodeUnavailable,
			fmt.Sprintf("server busy: %d requests in flight (http.max_in_flight); retry shortly", r.cfg.MaxInFlight)), "", 0)
	}
}

// handle registers h for one method; any other method on the path is a
// JSON 405 (the mux's own 405 would be plain text).
func (r *REST) handle(method, path string, h http.HandlerFunc) {
	r.mux.HandleFunc(path, func(w http.ResponseWriter, req *http.Request) {
		if req.Method != method && !(method == "GET" && req.Method == "HEAD") {
			w.Header().Set("Allow", method)
			writeError(w, schemas.Errorf(schemas.CodeMethod, "use "+method+" for "+req.URL.Path), "", 0)
			return
		}
		h(w, req)
	})
}

// single is one query of a request body.
type single struct {
	QueryRef *int64         `json:"query_ref"`
	Database *string        `json:"database"`
	Params   schemas.Params `json:"params"`
}

// scope says who may call an endpoint and where its database comes from.
type scope int

const (
	scopePublic scope = iota // no token; public entries; database from the body
	scopeToken               // JWT; public and private; database from the token's claim
	scopeBody                // JWT; public and private; database from the body (override)
)

// caller resolves the endpoint's auth: it returns the database to use
// (from the token for scopeToken), whether private entries may run, and
// who calls (the token's sub, or "public"), which scopes an
// Idempotency-Key.
func (r *REST) caller(req *http.Request, sc scope, bodyDB *string) (db string, private bool, who string, err error) {
	if sc == scopePublic {
		return deref(bodyDB), false, publicCaller, nil
	}
	c, err := r.bearer(req)
	if err != nil {
		return "", false, "", err
	}
	who = "sub:" + c.Subject
	if sc == scopeToken {
		if c.Database == "" {
			return "", false, "", invalidToken("token has no database claim", nil)
		}
		return c.Database, true, who, nil
	}
	if bodyDB != nil {
		if err := r.permit(c, *bodyDB); err != nil {
			return "", false, "", err
		}
	}
	return deref(bodyDB), true, who, nil
}

// publicCaller scopes the Idempotency-Keys of unauthenticated requests;
// a token's sub is prefixed, so no sub can share its scope.
const publicCaller = "public"

// open decodes the body into v and resolves the caller from the body's
// database field; on failure it has written the error and ok is false.
func (r *REST) open(w http.ResponseWriter, req *http.Request, sc scope, v any, bodyDB **string) (db string, private bool, who string, ok bool) {
	if err := r.decode(w, req, v); err != nil {
		writeError(w, err, "", 0)
		return "", false, "", false
	}
	db, private, who, err := r.caller(req, sc, *bodyDB)
	if err != nil {
		var ref int64 // the failure names what the body named
		if s, ok := v.(*single); ok && s.QueryRef != nil {
			ref = *s.QueryRef
		}
		writeError(w, err, deref(*bodyDB), ref)
		return "", false, "", false
	}
	return db, private, who, true
}

func (r *REST) query(sc scope) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		key, err := idempotencyKey(req)
		if err != nil {
			writeError(w, err, "", 0)
			return
		}
		var body single
		db, private, who, ok := r.open(w, req, sc, &body, &body.Database)
		if !ok {
			return
		}
		if body.QueryRef == nil || (sc != scopeToken && body.Database == nil) {
			writeError(w, schemas.Errorf(schemas.CodeBadRequest, "query_ref and database are required"), db, 0)
			return
		}
		id := ""
		if key != "" {
			id = KeyRequestID(db, who, key)
		}
		writeAnswer(w, r.run(req.Context(), db, *body.QueryRef, body.Params, "", private, true, id), r.cfg.MaxResponseBytes)
	}
}

// run validates one query and, if valid, sends it through the queue. tag
// "" or auto means the catalog entry's queue; private allows entries that
// are not public; writes is false on the read-only GET path; id is the
// request id ("": a fresh one).
func (r *REST) run(ctx context.Context, db string, ref int64, p schemas.Params, tag string, private, writes bool, id string) *cache.Answer {
	v, err := r.validate(db, ref, p, private)
	if err != nil {
		return &cache.Answer{Result: *schemas.Failure(db, ref, err)}
	}
	if v.q.Writes && !writes {
		return &cache.Answer{Result: *schemas.Failure(db, ref, schemas.Errorf(schemas.CodeMethod,
			fmt.Sprintf("query %d modifies data: the GET path is read-only; POST it to /api/conduit/query", ref)))}
	}
	return r.send(ctx, db, v, p, tag, id)
}

// valid is a query that passed validate: its entry, and its params'
// canonical text (params.AppendCanonical), from which both the cache key
// and the published params are made, so nothing is decoded twice here.
type valid struct {
	q     *catalog.Query
	canon []byte
}

// validate checks everything that can be checked before queueing.
func (r *REST) validate(db string, ref int64, p schemas.Params, private bool) (valid, error) {
	cat, ok := r.dbs.Catalog(db)
	if !ok {
		return valid{}, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection")
	}
	if cat == nil {
		return valid{}, schemas.Errorf(schemas.CodeUnavailable, "database "+db+" is not ready")
	}
	q, ok := cat.Lookup(ref)
	if !ok || !(q.Public || private) {
		return valid{}, schemas.Errorf(schemas.CodeQueryNotFound, "queryref not found or not public")
	}
	vals, err := params.Decode(params.Raw(p))
	if err == nil {
		err = vals.Check(q.Template)
	}
	if err != nil {
		return valid{}, err
	}
	return valid{q: q, canon: params.AppendCanonical(make([]byte, 0, 64), p, vals)}, nil
}

// send runs a validated query: from the instance cache when its entry is
// a cache-tag entry with a TTL, else through the queue. Both rules come
// from the instance's own catalog: its client needs no KV watch
// (catalogkv.go). The request's data is built from the canonical params;
// the answer keeps the reply's bytes for writeAnswer.
func (r *REST) send(ctx context.Context, db string, v valid, p schemas.Params, tag string, id string) *cache.Answer {
	q := v.q
	if tag == "" || tag == "auto" {
		tag = q.Queue
	}
	lq := clientlink.Query{Tag: tag, ID: id, Tables: q.Tables, Timeout: q.Timeout + r.cfg.QueueGrace,
		Params: v.canon, Direct: q.Direct}
	if q.Queue == schemas.TagCache && q.CacheTTLS > 0 {
		lq.TTL = time.Duration(q.CacheTTLS) * time.Second
	}
	return clientlink.Do(r.client, ctx, db, q.Ref, p, lq)
}

func (r *REST) seedQuery(w http.ResponseWriter, req *http.Request) {
	db := req.PathValue("database")
	ref, err := strconv.ParseInt(req.PathValue("query_ref"), 10, 64)
	if err != nil {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "query_ref must be an integer"), db, 0)
		return
	}
	tag := req.PathValue("queue")
	if tag != "auto" && !schemas.IsTag(tag) {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "queue must be slow, medium, fast, cache or auto"), db, ref)
		return
	}
	var p schemas.Params
	if raw := req.PathValue("params"); raw != "" && raw != "-" {
		if err := decodeJSON([]byte(raw), &p, "params"); err != nil {
			writeError(w, err, db, ref)
			return
		}
	}
	writeAnswer(w, r.run(req.Context(), db, ref, p, tag, false, false, ""), r.cfg.MaxResponseBytes)
}

func (r *REST) status(w http.ResponseWriter, req *http.Request) {
	all := r.dbs.Status()
	_, err := r.bearer(req)
	if err != nil {
		for name, st := range all {
			st.Queues = nil
			all[name] = st
		}
	}
	body := map[string]any{"success": true, "databases": all}
	r.addReplication(body, err)
	writeJSON(w, http.StatusOK, body)
}

func (r *REST) ready(w http.ResponseWriter, _ *http.Request) {
	var notReady []string
	for name, s := range r.dbs.Status() {
		if !s.Ready {
			notReady = append(notReady, name)
		}
	}
	if len(notReady) > 0 {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"success": false, "error": schemas.CodeUnavailable, "not_ready": notReady})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "status": "ready"})
}

// decode reads a JSON body within the size limit: too large → 413, not
// read within http.read_timeout_ms → 408, malformed, wrongly typed, not
// UTF-8 or holding NUL → 400.
func (r *REST) decode(w http.ResponseWriter, req *http.Request, v any) error {
	if req.ContentLength > r.cfg.MaxBodyBytes {
		// Refused before reading a byte of it.
		w.Header().Set("Connection", "close")
		return schemas.Errorf(schemas.CodeTooLarge, fmt.Sprintf("request body over %d bytes (http.max_body_bytes)", r.cfg.MaxBodyBytes))
	}
	body := http.MaxBytesReader(w, req.Body, r.cfg.MaxBodyBytes)
	b, err := io.ReadAll(body)
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return schemas.Errorf(schemas.CodeTooLarge, fmt.Sprintf("request body over %d bytes (http.max_body_bytes)", tooBig.Limit))
	case errors.As(err, &netErr) && netErr.Timeout():
		return schemas.Errorf(schemas.CodeTimeout, "request body not received in time (http.read_timeout_ms)")
	case err != nil:
		return schemas.Errorf(schemas.CodeBadRequest, "request body could not be read")
	}
	return decodeJSON(b, v, "body")
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
