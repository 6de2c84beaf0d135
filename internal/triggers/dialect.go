package triggers

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/dqmhq/dqm/schemas"
)

// The engine names dqm's config uses.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
	SQLite   = "sqlite"
	DB2      = "db2"
)

// dialect is what differs between engines besides the DDL files.
type dialect struct {
	engine string
	ddl    map[string]string
	dollar bool                           // $n placeholders, else ?
	quote  func(string) string            // an identifier, exactly as spelt
	fold   func(string) string            // how the engine folds an unquoted name
	pair   func(key, value string) string // one key/value of a JSON object
	newRow string                         // the new row's name in trigger bodies
	oldRow string
	// pending and sent are the WHERE conditions of events not yet and
	// already delivered; done is the value that marks one delivered.
	pending, sent, done string
	// cutoff is the SQL for "now minus the bound age" and age converts the
	// age to its argument.
	cutoff string
	age    func(seconds float64) any
}

// dialects are built once: every poll needs one.
var dialects = sync.OnceValues(func() (map[string]*dialect, error) {
	m := make(map[string]*dialect, 4)
	for _, e := range []string{Postgres, MySQL, SQLite, DB2} {
		d, err := newDialect(e)
		if err != nil {
			return nil, err
		}
		m[e] = d
	}
	return m, nil
})

func dialectFor(engine string) (*dialect, error) {
	m, err := dialects()
	if err != nil {
		return nil, err
	}
	d, ok := m[engine]
	if !ok {
		return nil, fmt.Errorf("triggers: unknown engine %q (want postgres, mysql, sqlite or db2)", engine)
	}
	return d, nil
}

func newDialect(engine string) (*dialect, error) {
	d := &dialect{engine: engine, newRow: "NEW", oldRow: "OLD",
		quote: doubleQuote, fold: same, pair: commaPair, pending: "delivered = 0", sent: "delivered = 1", done: "1"}
	switch engine {
	case Postgres:
		d.dollar = true
		d.pending, d.sent, d.done = "NOT delivered", "delivered", "TRUE"
		d.cutoff = "now() - $1::float8 * interval '1 second'"
		d.age = func(s float64) any { return s }
	case MySQL:
		d.quote = backquote
		d.cutoff = "NOW(6) - INTERVAL ? MICROSECOND"
		d.age = func(s float64) any { return int64(s * 1e6) }
	case SQLite:
		d.cutoff = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
		d.age = func(s float64) any { return fmt.Sprintf("-%.3f seconds", s) }
	case DB2:
		d.newRow, d.oldRow = "N", "O"
		d.fold = strings.ToUpper
		d.pair = func(k, v string) string { return "KEY " + k + " VALUE " + v }
		d.cutoff = "CURRENT TIMESTAMP - CURRENT TIMEZONE - CAST(? AS BIGINT) MICROSECONDS"
		d.age = func(s float64) any { return int64(s * 1e6) }
	}
	ddl, err := schemas.TriggerDDL(engine)
	if err != nil {
		return nil, fmt.Errorf("triggers: %w", err)
	}
	d.ddl = ddl
	return d, nil
}

// p is the n-th placeholder (from 1).
func (d *dialect) p(n int) string {
	if d.dollar {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

func doubleQuote(s string) string  { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func backquote(s string) string    { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
func commaPair(k, v string) string { return k + ", " + v }
func same(s string) string         { return s }

// literal is s as an SQL string literal. MySQL would read a backslash in
// it as an escape (unless NO_BACKSLASH_ESCAPES): callers refuse those.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tableRE is the config's rule for a watched table: name or schema.name.
var tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// table is a watched table as configured.
type table struct {
	name   string // numbers or sales.orders: what trigger_events records
	schema string // "" when unqualified
	base   string // the name without its schema
}

func (d *dialect) tables(names []string) ([]table, error) {
	out := make([]table, 0, len(names))
	for _, n := range names {
		if !tableRE.MatchString(n) {
			return nil, fmt.Errorf("triggers: table %q: want name or schema.name (letters, digits, _)", n)
		}
		t := table{name: n, base: n}
		if s, b, ok := strings.Cut(n, "."); ok {
			t.schema, t.base = s, b
		}
		if d.engine == SQLite && t.schema != "" {
			// A trigger may only write tables of its own database file, and
			// trigger_events lives in main.
			if !strings.EqualFold(t.schema, "main") {
				return nil, fmt.Errorf("triggers: table %q: SQLite watches tables of the main database only", n)
			}
			t.schema = ""
		}
		out = append(out, t)
	}
	return out, nil
}

// name quotes a configured name. Quoting keeps its case as written,
// except on DB2, where it is folded to upper case first: tables created
// without quotes are stored so.
func (d *dialect) name(s string) string { return d.quote(d.fold(s)) }

// ref is the table's quoted reference.
func (d *dialect) ref(t table) string {
	if t.schema == "" {
		return d.name(t.base)
	}
	return d.name(t.schema) + "." + d.name(t.base)
}

// ops are the captured operations: trigger section, name suffix.
var ops = []struct{ section, suffix string }{
	{"insert", "ins"},
	{"update", "upd"},
	{"delete", "del"},
}

// maxTriggerName is the shortest identifier limit of the engines
// (PostgreSQL's 63 bytes; MySQL allows 64, DB2 128).
const maxTriggerName = 63

// triggerName is dqm_<table>_<suffix>, the table's name shortened and
// given a hash of itself when the whole would not fit.
func triggerName(base, suffix string) string {
	n := "dqm_" + base + "_" + suffix
	if len(n) <= maxTriggerName {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(base))
	keep := maxTriggerName - len("dqm___") - 8 - len(suffix)
	return fmt.Sprintf("dqm_%s_%08x_%s", base[:keep], h.Sum32(), suffix)
}

// trigger is the quoted, schema-qualified (where the table is) name of a
// table's trigger.
func (d *dialect) trigger(t table, suffix string) string {
	n := d.name(triggerName(t.base, suffix))
	if t.schema != "" && d.engine != Postgres { // PostgreSQL triggers belong to their table
		n = d.name(t.schema) + "." + n
	}
	return n
}

// column is one column of a watched table.
type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// row is the key/value list of a JSON object over cols of row (NEW or OLD).
func (d *dialect) row(cols []column, row string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		tpl := d.ddl["value"]
		if isBinary(c.Type) && d.ddl["bytes"] != "" {
			tpl = d.ddl["bytes"]
		}
		key := c.Name
		if d.engine == DB2 && strings.ToUpper(key) == key {
			// An unquoted DB2 name is stored upper case, PostgreSQL's lower
			// case: the same table gives the same keys on both.
			key = strings.ToLower(key)
		}
		v := strings.ReplaceAll(tpl, "{{col}}", row+"."+d.quote(c.Name))
		parts[i] = d.pair(literal(key), v)
	}
	return strings.Join(parts, ", ")
}

func isBinary(typ string) bool {
	switch strings.ToLower(typ) {
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return true
	}
	return false
}

// render fills a DDL section's tokens.
func (d *dialect) render(section string, tokens ...string) string {
	return strings.NewReplacer(tokens...).Replace(d.ddl[section])
}
