package ingress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/schemas"
)

// The named routes (CONTRACT §11): one URL per catalog entry,
// /api/query/{database}/{ref}, with its parameters by name — in the query
// string on GET (?START=1&FINISH=3), as a flat JSON object on POST
// ({"START":1,"FINISH":3}) — each read as the type group its entry's
// param_types declares (STRING when it declares none). An optional
// ?queue= picks the queue, as the seed path's segment does. Answers,
// codes, cache and Idempotency-Key are those of /api/conduit/query.
//
// Without an Authorization header only public entries run; with a bearer
// token private ones too, on a database the token permits (namedPermit).

// namedPath is the named routes' pattern.
const namedPath = "/api/query/{database}/{ref}"

// queueParam is the query-string name of the queue; a template parameter
// spelled "queue" can be given on POST only.
const queueParam = "queue"

// registerNamed adds the named routes and the per-database OpenAPI
// document (openapi.go) to the adapter.
func (r *REST) registerNamed() {
	r.mux.HandleFunc(namedPath, r.named)
	r.handle("GET", "/api/databases/{database}/openapi.json", r.databaseOpenAPI)
}

// noHead refuses HEAD on a GET query route: answering it would mean
// running the query only to drop its body.
func noHead(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodHead {
			w.Header().Set("Allow", "GET")
			writeError(w, schemas.Errorf(schemas.CodeMethod, "HEAD does not run a query: use GET"), req.PathValue("database"), 0)
			return
		}
		h(w, req)
	}
}

func (r *REST) named(w http.ResponseWriter, req *http.Request) {
	db := req.PathValue("database")
	ref, err := strconv.ParseInt(req.PathValue("ref"), 10, 64)
	if err != nil {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "ref must be an integer"), db, 0)
		return
	}
	switch req.Method {
	case http.MethodGet, http.MethodPost:
	case http.MethodHead:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, schemas.Errorf(schemas.CodeMethod, "HEAD does not run a query: use GET (reads) or POST"), db, ref)
		return
	default:
		w.Header().Set("Allow", "GET, POST")
		writeError(w, schemas.Errorf(schemas.CodeMethod, "use GET or POST for "+req.URL.Path), db, ref)
		return
	}
	key, err := idempotencyKey(req)
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	private, who, err := r.namedCaller(req, db)
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	query, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		writeError(w, schemas.Errorf(schemas.CodeBadRequest, "malformed query string: "+err.Error()), db, ref)
		return
	}
	tag, err := namedQueue(query)
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	q, err := r.entry(db, ref, private)
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	if q.Writes && req.Method == http.MethodGet {
		w.Header().Set("Allow", "POST")
		writeError(w, schemas.Errorf(schemas.CodeMethod, fmt.Sprintf(
			"query %d modifies data: GET is read-only; POST it to /api/query/%s/%d", ref, db, ref)), db, ref)
		return
	}
	var p schemas.Params
	if req.Method == http.MethodGet {
		p, err = queryParams(query, q.ParamTypes)
	} else {
		p, err = r.bodyParams(w, req, q.ParamTypes)
	}
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	v, err := r.validate(db, ref, p, private)
	if err != nil {
		writeError(w, err, db, ref)
		return
	}
	id := ""
	if key != "" {
		id = KeyRequestID(db, who, key)
	}
	writeAnswer(w, r.send(req.Context(), db, v, p, tag, id), r.cfg.MaxResponseBytes)
}

// entry looks up a catalog entry as validate does, with its errors.
func (r *REST) entry(db string, ref int64, private bool) (*catalog.Query, error) {
	cat, ok := r.dbs.Catalog(db)
	if !ok {
		return nil, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection")
	}
	if cat == nil {
		return nil, schemas.Errorf(schemas.CodeUnavailable, "database "+db+" is not ready")
	}
	q, ok := cat.Lookup(ref)
	if !ok || !(q.Public || private) {
		return nil, schemas.Errorf(schemas.CodeQueryNotFound, "queryref not found or not public")
	}
	return q, nil
}

// namedCaller is the named routes' auth: public entries without a token;
// with one (verified), private entries too, on a database it permits.
// who scopes an Idempotency-Key, as caller's does.
func (r *REST) namedCaller(req *http.Request, db string) (private bool, who string, err error) {
	if _, sent := req.Header["Authorization"]; !sent {
		return false, publicCaller, nil
	}
	c, err := r.bearer(req)
	if err != nil {
		return false, "", err
	}
	if err := r.namedPermit(c, db); err != nil {
		return false, "", err
	}
	return true, "sub:" + c.Subject, nil
}

// namedPermit checks that a token may run private entries of db from its
// path: the databases claim when it has one, else the database claim,
// else alt_*'s rule (any database unless auth.alt_requires_databases_claim).
func (r *REST) namedPermit(c *Claims, db string) error {
	switch {
	case c.Databases != nil:
		if !c.Databases.Permits(db) {
			return forbidden(db)
		}
	case c.Database != "":
		if c.Database != db {
			return forbidden(db)
		}
	default:
		return r.permit(c, db)
	}
	return nil
}

// namedQueue is the ?queue= of a named route: "" (the entry's), auto, or
// a tag; given once.
func namedQueue(query url.Values) (string, error) {
	vs := query[queueParam]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", schemas.Errorf(schemas.CodeBadRequest, "queue: give it once")
	case vs[0] != "auto" && !schemas.IsTag(vs[0]):
		return "", schemas.Errorf(schemas.CodeBadRequest, "queue must be slow, medium, fast, cache or auto")
	}
	return vs[0], nil
}

// queryParams reads a GET's parameters from its query string, each in
// the group types declares (STRING when undeclared). A number or boolean
// group takes the text as its JSON literal when it is one; anything else
// is passed as a JSON string, so params' own check names the parameter
// and the type it wants ("START: want JSON integer, got string").
func queryParams(query url.Values, types map[string]string) (schemas.Params, error) {
	p := schemas.Params{}
	for _, name := range sortedKeys(query) {
		if name == queueParam {
			continue
		}
		vs := query[name]
		if len(vs) > 1 {
			return nil, schemas.Errorf(schemas.CodeBadParams, fmt.Sprintf("%s: given %d times; give it once", name, len(vs)))
		}
		group := types[name]
		if group == "" {
			group = "STRING"
		}
		add(p, group, name, literal(group, vs[0]))
	}
	return p, nil
}

// literal is a query-string value as the JSON its group reads.
func literal(group, text string) json.RawMessage {
	switch group {
	case "INTEGER", "FLOAT":
		if text != "" && (text[0] == '-' || text[0] >= '0' && text[0] <= '9') && json.Valid([]byte(text)) {
			return json.RawMessage(text)
		}
	case "BOOLEAN":
		if text == "true" || text == "false" {
			return json.RawMessage(text)
		}
	}
	b, _ := json.Marshal(text)
	return b
}

// bodyParams reads a POST's flat JSON object of parameters (an empty body
// is none). A declared parameter goes to its group, where params checks
// its value; an undeclared one to the group its JSON says (an integer
// INTEGER, another number FLOAT, true/false BOOLEAN, a string or null
// STRING).
func (r *REST) bodyParams(w http.ResponseWriter, req *http.Request, types map[string]string) (schemas.Params, error) {
	if req.ContentLength == 0 {
		return schemas.Params{}, nil // no body: no parameters
	}
	var raw json.RawMessage
	if err := r.decode(w, req, &raw); err != nil {
		return nil, err
	}
	var flat map[string]json.RawMessage
	if err := json.Unmarshal(raw, &flat); err != nil || flat == nil {
		return nil, schemas.Errorf(schemas.CodeBadRequest, `body must be a JSON object of parameters by name, e.g. {"START":1,"FINISH":3}`)
	}
	p := schemas.Params{}
	for _, name := range sortedKeys(flat) {
		v := bytes.TrimSpace(flat[name])
		group := types[name]
		if group == "" {
			switch {
			case v[0] == '{' || v[0] == '[':
				return nil, schemas.Errorf(schemas.CodeBadParams, name+": want a value (number, string, boolean or null), not an object or array")
			case v[0] == 't' || v[0] == 'f':
				group = "BOOLEAN"
			case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
				group = "INTEGER"
				if bytes.ContainsAny(v, ".eE") {
					group = "FLOAT"
				}
			default:
				group = "STRING"
			}
		}
		add(p, group, name, v)
	}
	return p, nil
}

func add(p schemas.Params, group, name string, v json.RawMessage) {
	if p[group] == nil {
		p[group] = map[string]json.RawMessage{}
	}
	p[group][name] = v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
