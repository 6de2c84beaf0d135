package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/sqltables"
	"github.com/dqmhq/dqm/schemas"
)

// Entry is one catalog entry as written in a catalog file; the queries
// table's columns map to it one to one (sql → sql_text, public →
// is_public, direct → is_direct, tables → tables_list as a comma list,
// param_types → param_types as "NAME GROUP, NAME GROUP").
type Entry struct {
	Ref         int64             `json:"ref"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	SQL         string            `json:"sql,omitempty"`
	SQLByEngine map[string]string `json:"sql_by_engine,omitempty"`
	Queue       string            `json:"queue"`
	Public      bool              `json:"public"`
	TimeoutMS   int               `json:"timeout_ms,omitempty"`
	CacheTTLS   int               `json:"cache_ttl_s,omitempty"`
	Tables      []string          `json:"tables,omitempty"`
	// MaxRows bounds the rows of a result (0: the database's max_rows); a
	// result over it is answered 413 too_large. The queries table has no
	// column for it yet: only catalog files set it.
	MaxRows int `json:"max_rows,omitempty"`
	// Direct puts a read on the direct lane: core NATS request/reply to
	// the database's workers (schemas.DirectSubject), not its JetStream
	// queue. An entry that writes cannot be direct (Compile refuses it).
	// The queries table's column is is_direct; databases.<name>.direct_reads
	// puts every read of a database on the lane instead.
	Direct bool `json:"direct,omitempty"`
	// ParamTypes declares each parameter's type group (INTEGER, STRING,
	// ...) by name: the named routes read ?START=1 as the group says, and
	// the per-database OpenAPI types it. A parameter left out is read as
	// a STRING there; the Conduit bodies name their groups themselves.
	ParamTypes map[string]string `json:"param_types,omitempty"`
}

// Query is an entry compiled for one engine.
type Query struct {
	Entry
	Template   *params.Template
	Statements []params.Statement // rewritten to the engine's placeholder style
	Tables     []string           // tables it reads or writes, for invalidation
	Timeout    time.Duration      // the entry's, else the database default
	Writes     bool               // some statement modifies data: its tables are invalidated
	// MaxRows is the entry's max_rows, else the database default; it
	// shadows Entry.MaxRows, which keeps the value as written (0: unset).
	MaxRows int
	// Direct: the query is answered on the direct lane — it is a read,
	// and its entry says direct or the database's direct_reads is on. It
	// shadows Entry.Direct, which keeps the value as written.
	Direct bool
}

// Catalog is the compiled catalog of one database. It is immutable: a
// reload builds a new one.
type Catalog struct {
	Database string
	Engine   string
	queries  map[int64]*Query
}

// Lookup returns the query for ref.
func (c *Catalog) Lookup(ref int64) (*Query, bool) {
	q, ok := c.queries[ref]
	return q, ok
}

// HasDirect reports whether any query is on the direct lane: the
// database's workers serve the lane only then (or with direct_reads).
func (c *Catalog) HasDirect() bool {
	for _, q := range c.queries {
		if q.Direct {
			return true
		}
	}
	return false
}

// Len is the number of entries.
func (c *Catalog) Len() int { return len(c.queries) }

// Refs lists the refs in order.
func (c *Catalog) Refs() []int64 {
	refs := make([]int64, 0, len(c.queries))
	for r := range c.queries {
		refs = append(refs, r)
	}
	slices.Sort(refs)
	return refs
}

// DefaultMaxRows is the row bound of entries without max_rows when
// Compile is given no WithMaxRows; it matches the config default
// (databases.<name>.max_rows, internal/config/defaults.go).
const DefaultMaxRows = 10000

// Option tunes Compile.
type Option func(*options)

type options struct {
	maxRows     int
	directReads bool
}

// WithMaxRows sets the database's default row bound (databases.<name>.max_rows).
func WithMaxRows(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.maxRows = n
		}
	}
}

// WithDirectReads puts every read of the database on the direct lane
// (databases.<name>.direct_reads); its writes stay on their queues.
func WithDirectReads(on bool) Option {
	return func(o *options) { o.directReads = on }
}

// Compile checks every entry and compiles it for the engine. It reports
// every problem at once, each naming the ref.
func Compile(database, engine string, style params.Style, defaultTimeout time.Duration, entries []Entry, opts ...Option) (*Catalog, error) {
	o := options{maxRows: DefaultMaxRows}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Catalog{Database: database, Engine: engine, queries: make(map[int64]*Query, len(entries))}
	var problems []string
	bad := func(ref int64, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("ref %d: ", ref)+fmt.Sprintf(format, args...))
	}
	for _, e := range entries {
		if _, dup := c.queries[e.Ref]; dup {
			bad(e.Ref, "duplicate ref")
			continue
		}
		if e.Queue == "" {
			e.Queue = schemas.TagMedium
		}
		if !schemas.IsTag(e.Queue) {
			bad(e.Ref, "queue %q is not slow, medium, fast or cache", e.Queue)
			continue
		}
		if e.TimeoutMS < 0 || e.CacheTTLS < 0 || e.MaxRows < 0 {
			bad(e.Ref, "timeout_ms, cache_ttl_s and max_rows must not be negative")
			continue
		}
		text := e.SQL
		if s := e.SQLByEngine[engine]; s != "" {
			text = s
		}
		if strings.TrimSpace(text) == "" {
			bad(e.Ref, "no SQL for engine %s", engine)
			continue
		}
		tpl, err := params.Parse(text)
		if err != nil {
			bad(e.Ref, "%v", err)
			continue
		}
		if problem := checkParamTypes(e.ParamTypes, tpl); problem != "" {
			bad(e.Ref, "%s", problem)
			continue
		}
		q := &Query{Entry: e, Template: tpl, Statements: tpl.Statements(style), Tables: e.Tables, Timeout: defaultTimeout, MaxRows: o.maxRows}
		if len(q.Tables) == 0 {
			q.Tables = sqltables.Of(text)
		}
		for _, st := range q.Statements {
			q.Writes = q.Writes || engines.Modifies(st.SQL)
		}
		if e.Direct && q.Writes {
			bad(e.Ref, "direct: true, but the entry modifies data: the direct lane runs reads only (remove direct, or split the write out)")
			continue
		}
		q.Direct = !q.Writes && (e.Direct || o.directReads)
		if e.TimeoutMS > 0 {
			q.Timeout = time.Duration(e.TimeoutMS) * time.Millisecond
		}
		if e.MaxRows > 0 {
			q.MaxRows = e.MaxRows
		}
		c.queries[e.Ref] = q
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return c, &Error{Database: database, Problems: problems}
	}
	return c, nil
}

// checkParamTypes returns what is wrong with an entry's param_types ("":
// nothing): each name must be a placeholder of the template, each group
// one of params' groups.
func checkParamTypes(types map[string]string, tpl *params.Template) string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(types)) {
		switch g := types[name]; {
		case !slices.Contains(tpl.Names(), name):
			problems = append(problems, fmt.Sprintf("param_types: %s is not a parameter of the SQL", name))
		case !params.IsGroup(g):
			problems = append(problems, fmt.Sprintf("param_types: %s: %q is not a type group (%s)", name, g, params.GroupList))
		}
	}
	return strings.Join(problems, "; ")
}

// Error lists every problem found while compiling a catalog. The entries
// without problems are still usable.
type Error struct {
	Database string
	Problems []string
}

func (e *Error) Error() string {
	return "catalog " + e.Database + ": " + strings.Join(e.Problems, "; ")
}

// ReadFile reads a catalog file: a JSON array of entries, or an object
// {"queries": [...]}.
func ReadFile(path string) ([]Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var entries []Entry
	if err := json.Unmarshal(b, &entries); err != nil {
		var wrapped struct {
			Queries []Entry `json:"queries"`
		}
		if err2 := json.Unmarshal(b, &wrapped); err2 != nil {
			return nil, fmt.Errorf("catalog file %s: %w", path, errors.Join(err, err2))
		}
		entries = wrapped.Queries
	}
	return entries, nil
}

// Diff lists the refs that differ between two catalogs: added, removed, or
// with any field changed. Their cached results and prepared statements
// are stale.
func Diff(old, cur *Catalog) []int64 {
	var out []int64
	for ref, q := range cur.queries {
		if o, ok := old.queries[ref]; !ok || !sameEntry(o.Entry, q.Entry) {
			out = append(out, ref)
		}
	}
	for ref := range old.queries {
		if _, ok := cur.queries[ref]; !ok {
			out = append(out, ref)
		}
	}
	slices.Sort(out)
	return out
}

func sameEntry(a, b Entry) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
