package ingress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/schemas"
)

// rowDescriber describes a catalog entry's result columns without running
// it; the server implements it with its engines (engines.Describer), and
// the REST adapter asks it when its Databases is one. Without it, the
// per-database OpenAPI leaves every entry's rows undescribed.
type rowDescriber interface {
	DescribeRows(ctx context.Context, db string, q *catalog.Query) ([]engines.ColumnType, error)
}

// databaseOpenAPI serves GET /api/databases/{database}/openapi.json: the
// OpenAPI 3.1 document of one database's catalog, built from the catalog
// of the moment, so it follows every reload. One path per entry the
// caller may see — the public ones, and with a token that permits the
// database (as on the named routes) the private ones, marked with bearer
// security — at its named route: parameters typed from param_types, rows
// from the engine's description of the statement.
func (r *REST) databaseOpenAPI(w http.ResponseWriter, req *http.Request) {
	db := req.PathValue("database")
	private, _, err := r.namedCaller(req, db)
	if err != nil {
		writeError(w, err, db, 0)
		return
	}
	cat, ok := r.dbs.Catalog(db)
	if !ok {
		writeError(w, schemas.Errorf(schemas.CodeInvalidDatabase, "Invalid database selection"), db, 0)
		return
	}
	if cat == nil {
		writeError(w, schemas.Errorf(schemas.CodeUnavailable, "database "+db+" is not ready"), db, 0)
		return
	}
	desc, _ := r.dbs.(rowDescriber)
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	doc, err := catalogOpenAPI(req.Context(), cat, private, desc, scheme+"://"+req.Host)
	if err != nil {
		writeError(w, err, db, 0)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// object is a JSON object of the document.
type object = map[string]any

// catalogOpenAPI builds the document of cat.
func catalogOpenAPI(ctx context.Context, cat *catalog.Catalog, private bool, desc rowDescriber, server string) (object, error) {
	base, err := baseComponents()
	if err != nil {
		return nil, err
	}
	db := cat.Database
	paths, schemasOut := object{}, base["schemas"].(object)
	hash := sha256.New()
	for _, ref := range cat.Refs() {
		q, _ := cat.Lookup(ref)
		if !q.Public && !private {
			continue
		}
		entry, _ := json.Marshal(q.Entry)
		hash.Write(entry)
		id := strconv.FormatInt(ref, 10)
		schemasOut["Row"+id] = rowSchema(ctx, db, q, desc)
		result := deepCopy(schemasOut["Result"]).(object)
		result["properties"].(object)["rows"] = object{"type": "array", "items": schemaRef("Row" + id)}
		schemasOut["Result"+id] = result
		schemasOut["Params"+id] = paramsSchema(q)
		paths["/api/query/"+db+"/"+id] = entryPath(db, q, id)
	}
	return object{
		"openapi": "3.1.0",
		"info": object{
			"title":   "dqm database " + db,
			"version": hex.EncodeToString(hash.Sum(nil))[:12],
			"description": "The catalog of database " + db + " (" + cat.Engine + "), one path per entry at its named route: " +
				"GET with the parameters in the query string (reads), POST with a flat JSON body. " +
				"Parameters are typed from each entry's param_types, rows from the engine's description of its statement. " +
				"The version changes with the catalog.",
		},
		"servers":    []any{object{"url": server}},
		"paths":      paths,
		"components": base,
	}, nil
}

// entryPath is the path item of one entry: GET for a read, POST always.
func entryPath(db string, q *catalog.Query, id string) object {
	summary := q.Name
	if summary == "" {
		summary = "query " + id
	}
	notes := []string{fmt.Sprintf("Catalog entry %s of %s, queue %s.", id, db, q.Queue)}
	if q.Description != "" {
		notes = append([]string{q.Description + "."}, notes...)
	}
	if q.Queue == schemas.TagCache && q.CacheTTLS > 0 {
		notes = append(notes, fmt.Sprintf("Cached for %d s or until a write to %s.", q.CacheTTLS, strings.Join(q.Tables, ", ")))
	}
	if q.Direct {
		notes = append(notes, "Answered on the direct lane.")
	}
	if q.Writes {
		notes = append(notes, "It modifies data: POST only; an Idempotency-Key makes a retry safe.")
	}
	responses := object{"200": object{"description": "the query's body; success false with an error code when it failed",
		"content": object{"application/json": object{"schema": schemaRef("Result" + id)}}}}
	for _, code := range []string{"400", "401", "403", "404", "405", "408", "413", "422", "429", "500", "503"} {
		responses[code] = object{"$ref": "#/components/responses/Failure"}
	}
	queue := object{"$ref": "#/components/parameters/Queue"}
	op := func(method string, params []any) object {
		o := object{"operationId": method + "Ref" + id, "summary": summary, "description": strings.Join(notes, " "),
			"parameters": params, "responses": responses}
		if !q.Public {
			o["security"] = []any{object{"bearer": []any{}}}
		}
		return o
	}
	post := op("post", []any{queue, object{"$ref": "#/components/parameters/IdempotencyKey"}})
	post["requestBody"] = object{"required": len(q.Template.Names()) > 0,
		"content": object{"application/json": object{"schema": schemaRef("Params" + id)}}}
	item := object{"post": post}
	if !q.Writes {
		params := []any{queue}
		for _, name := range q.Template.Names() {
			params = append(params, object{"name": name, "in": "query", "required": true, "schema": paramSchema(q.ParamTypes[name])})
		}
		item["get"] = op("get", params)
	}
	return item
}

// paramsSchema is the flat body of an entry's POST.
func paramsSchema(q *catalog.Query) object {
	props := object{}
	names := q.Template.Names()
	for _, name := range names {
		props[name] = paramSchema(q.ParamTypes[name])
	}
	required := make([]any, len(names))
	for i, n := range names {
		required[i] = n
	}
	return object{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// paramSchema is the schema of a parameter of a type group ("" when the
// entry declares none: read as a STRING).
func paramSchema(group string) object {
	switch group {
	case "INTEGER":
		return object{"type": "integer"}
	case "FLOAT":
		return object{"type": "number"}
	case "BOOLEAN":
		return object{"type": "boolean"}
	case "STRING", "TEXT":
		return object{"type": "string"}
	case "DATE":
		return object{"type": "string", "format": "date"}
	case "TIME":
		return object{"type": "string", "pattern": `^\d{2}:\d{2}:\d{2}$`, "description": "HH:MM:SS"}
	case "DATETIME":
		return object{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`, "description": "YYYY-MM-DD HH:MM:SS"}
	case "TIMESTAMP":
		return object{"type": "string", "pattern": `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$`, "description": "YYYY-MM-DD HH:MM:SS[.ffffff]"}
	}
	return object{"type": "string", "description": "its type is not declared in the entry's param_types: read as a STRING"}
}

// rowSchema is the schema of one row of an entry's result: its columns
// as the engine describes the statement (the statement whose rows a run
// returns), or an open object saying why they are not described.
func rowSchema(ctx context.Context, db string, q *catalog.Query, desc rowDescriber) object {
	open := func(why string) object {
		return object{"type": "object", "description": "rows not described: " + why}
	}
	switch {
	case q.Writes:
		return open("the entry modifies data (its rows, if any, come from RETURNING)")
	case desc == nil:
		return open("this server cannot describe statements")
	}
	cols, err := desc.DescribeRows(ctx, db, q)
	if err != nil {
		return open(message(err))
	}
	props := object{}
	required := make([]any, 0, len(cols))
	for _, c := range cols {
		props[c.Name] = columnSchema(c)
		required = append(required, c.Name)
	}
	return object{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// columnSchema is one column's JSON Schema: its JSON types, and null
// unless the engine knows the column holds none.
func columnSchema(c engines.ColumnType) object {
	var notes []string
	for _, n := range []string{c.DatabaseType, c.Note} {
		if n != "" {
			notes = append(notes, n)
		}
	}
	s := object{}
	if len(notes) > 0 {
		s["description"] = strings.Join(notes, "; ")
	}
	if c.JSON == nil {
		return s // any JSON value
	}
	types := make([]any, 0, len(c.JSON)+1)
	for _, t := range c.JSON {
		types = append(types, t)
	}
	if !c.NotNull {
		types = append(types, "null")
	}
	s["type"] = types
	if c.Format != "" {
		s["format"] = c.Format
	}
	return s
}

func schemaRef(name string) object { return object{"$ref": "#/components/schemas/" + name} }

// baseComponents are the components every document shares, taken from
// schemas.OpenAPI (the failure body, error codes, bearer security, the
// Idempotency-Key header) plus the queue parameter; a fresh copy per call.
func baseComponents() (object, error) {
	shared, err := sharedComponents()
	if err != nil {
		return nil, err
	}
	return deepCopy(shared).(object), nil
}

var sharedComponents = sync.OnceValues(func() (object, error) {
	var doc struct {
		Components struct {
			Schemas         object `json:"schemas"`
			SecuritySchemes object `json:"securitySchemes"`
			Parameters      object `json:"parameters"`
			Headers         object `json:"headers"`
			Responses       object `json:"responses"`
		} `json:"components"`
	}
	if err := json.Unmarshal(schemas.OpenAPI, &doc); err != nil {
		return nil, fmt.Errorf("schemas.OpenAPI: %w", err)
	}
	c := doc.Components
	params := object{"IdempotencyKey": c.Parameters["IdempotencyKey"], "Queue": object{"name": "queue", "in": "query",
		"description": "the queue to use instead of the entry's", "schema": object{"type": "string", "enum": []any{"slow", "medium", "fast", "cache", "auto"}}}}
	return object{
		"schemas":         object{"Result": c.Schemas["Result"], "ErrorCode": c.Schemas["ErrorCode"]},
		"securitySchemes": c.SecuritySchemes,
		"parameters":      params,
		"headers":         c.Headers,
		"responses":       object{"Failure": c.Responses["Failure"]},
	}, nil
})

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case object:
		out := make(object, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
