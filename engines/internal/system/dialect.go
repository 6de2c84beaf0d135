package system

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"

	"github.com/dqmhq/dqm/engines"
)

// Dialect is what differs between engines besides their DDL files.
type Dialect struct {
	Engine string                   // schemas.EnginePostgres ...
	Style  engines.PlaceholderStyle // placeholder style
	// SetupDDL is the script that creates dqm's own tables (the engine's
	// ddl/tables.sql), the catalog table named {{queries}}.
	SetupDDL string
	// DDL is the trigger DDL (the engine's ddl/triggers.sql) by section.
	DDL    map[string]string
	Quote  func(string) string            // an identifier, exactly as spelt
	Fold   func(string) string            // how the engine folds an unquoted name
	Pair   func(key, value string) string // one key/value of a JSON object
	NewRow string                         // the new row's name in trigger bodies
	OldRow string
	// Pending and Sent are the WHERE conditions of events not yet and
	// already delivered; Done is the value that marks one delivered.
	Pending, Sent, Done string
	// Cutoff is the SQL for "now minus the bound age" against
	// trigger_events.created_at, RequestsCutoff the same against
	// dqm_requests.created_at, and Age converts the age to their argument.
	Cutoff, RequestsCutoff string
	Age                    func(seconds float64) any
	// Limit is the clause that bounds a fetch to n rows; n is inlined.
	Limit func(n int) string
	// Data is the select expression of trigger_events.data as text.
	Data string
	// Text is the column type of a long text (dqm_requests.outcome), as
	// in the DDL file.
	Text string
	// Exists is the SQLSTATE of "already exists", ignored by Setup on an
	// engine without CREATE TABLE IF NOT EXISTS; "" for none.
	Exists string
	// NoTable reports whether a database error says a table does not
	// exist, so a missing catalog table is one clear problem.
	NoTable func(*engines.DatabaseError) bool
	// SchemaTables says whether a watched table may be schema.name; false,
	// only main.name (SQLite: a trigger writes only its own file).
	SchemaTables bool
	// TriggerInSchema says whether a trigger is named with its table's
	// schema (PostgreSQL's triggers belong to their table instead).
	TriggerInSchema bool
	// LowerKeys lower-cases an all-upper-case column name in event data:
	// an unquoted DB2 name is stored upper case, PostgreSQL's lower case,
	// so the same table gives the same keys on both.
	LowerKeys bool
}

// NewDialect returns the defaults most engines share, with the engine's
// DDL: tables, the script of dqm's own tables, and triggers, its trigger
// DDL file (Sections). The engine adjusts the rest.
func NewDialect(engine string, style engines.PlaceholderStyle, tables, triggers string) *Dialect {
	return &Dialect{Engine: engine, Style: style, SetupDDL: tables, DDL: Sections(triggers), NewRow: "NEW", OldRow: "OLD",
		Quote: DoubleQuote, Fold: same, Pair: commaPair, Pending: "delivered = 0", Sent: "delivered = 1", Done: "1",
		Limit: func(n int) string { return " LIMIT " + strconv.Itoa(n) }, Data: "data", Text: "TEXT",
		SchemaTables: true, TriggerInSchema: true}
}

// P is the n-th placeholder (from 1).
func (d *Dialect) P(n int) string {
	if d.Style == engines.Dollar {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// DoubleQuote quotes an identifier the SQL standard's way.
func DoubleQuote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Backquote quotes an identifier MySQL's way.
func Backquote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func commaPair(k, v string) string { return k + ", " + v }
func same(s string) string         { return s }

// Literal is s as an SQL string literal. MySQL would read a backslash in
// it as an escape (unless NO_BACKSLASH_ESCAPES): callers refuse those.
func Literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// tableRE is the config's rule for a watched table: name or schema.name.
var tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// Table is a watched table as configured.
type Table struct {
	Name   string // numbers or sales.orders: what trigger_events records
	Schema string // "" when unqualified
	Base   string // the name without its schema
}

// Tables checks and splits configured table names.
func (d *Dialect) Tables(names []string) ([]Table, error) {
	out := make([]Table, 0, len(names))
	for _, n := range names {
		if !tableRE.MatchString(n) {
			return nil, fmt.Errorf("triggers: table %q: want name or schema.name (letters, digits, _)", n)
		}
		t := Table{Name: n, Base: n}
		if s, b, ok := strings.Cut(n, "."); ok {
			t.Schema, t.Base = s, b
		}
		if !d.SchemaTables && t.Schema != "" {
			// A trigger may only write tables of its own database file, and
			// trigger_events lives in main.
			if !strings.EqualFold(t.Schema, "main") {
				return nil, fmt.Errorf("triggers: table %q: SQLite watches tables of the main database only", n)
			}
			t.Schema = ""
		}
		out = append(out, t)
	}
	return out, nil
}

// Name quotes a configured name. Quoting keeps its case as written,
// except where the engine folds unquoted names (DB2: upper case), which
// is done first: tables created without quotes are stored so.
func (d *Dialect) Name(s string) string { return d.Quote(d.Fold(s)) }

// Ref is the table's quoted reference.
func (d *Dialect) Ref(t Table) string {
	if t.Schema == "" {
		return d.Name(t.Base)
	}
	return d.Name(t.Schema) + "." + d.Name(t.Base)
}

// Ops are the captured operations: trigger section, name suffix.
var Ops = []struct{ Section, Suffix string }{
	{"insert", "ins"},
	{"update", "upd"},
	{"delete", "del"},
}

// MaxTriggerName is the shortest identifier limit of the engines
// (PostgreSQL's 63 bytes; MySQL allows 64, DB2 128).
const MaxTriggerName = 63

// TriggerName is dqm_<table>_<suffix>, the table's name shortened and
// given a hash of itself when the whole would not fit.
func TriggerName(base, suffix string) string {
	n := "dqm_" + base + "_" + suffix
	if len(n) <= MaxTriggerName {
		return n
	}
	h := fnv.New32a()
	h.Write([]byte(base))
	keep := MaxTriggerName - len("dqm___") - 8 - len(suffix)
	return fmt.Sprintf("dqm_%s_%08x_%s", base[:keep], h.Sum32(), suffix)
}

// Trigger is the quoted (and, where the engine wants it, schema-qualified)
// name of a table's trigger.
func (d *Dialect) Trigger(t Table, suffix string) string {
	n := d.Name(TriggerName(t.Base, suffix))
	if t.Schema != "" && d.TriggerInSchema {
		n = d.Name(t.Schema) + "." + n
	}
	return n
}

// Column is one column of a watched table.
type Column struct{ Name, Type string }

// Row is the key/value list of a JSON object over cols of row (NEW or OLD).
func (d *Dialect) Row(cols []Column, row string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		tpl := d.DDL["value"]
		if isBinary(c.Type) && d.DDL["bytes"] != "" {
			tpl = d.DDL["bytes"]
		}
		key := c.Name
		if d.LowerKeys && strings.ToUpper(key) == key {
			key = strings.ToLower(key)
		}
		v := strings.ReplaceAll(tpl, "{{col}}", row+"."+d.Quote(c.Name))
		parts[i] = d.Pair(Literal(key), v)
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

// Render fills a DDL section's tokens.
func (d *Dialect) Render(section string, tokens ...string) string {
	return strings.NewReplacer(tokens...).Replace(d.DDL[section])
}

// TableTokens are the tokens of t's trigger for one operation.
func (d *Dialect) TableTokens(t Table, suffix string, cols []Column, events string) []string {
	return []string{
		"{{trigger}}", d.Trigger(t, suffix), "{{table}}", d.Ref(t), "{{name}}", Literal(t.Name),
		"{{events}}", events, "{{new}}", d.Row(cols, d.NewRow), "{{old}}", d.Row(cols, d.OldRow),
	}
}

// Drops are the statements that drop the tables' triggers.
func (d *Dialect) Drops(tables []string) ([]string, error) {
	ts, err := d.Tables(tables)
	if err != nil {
		return nil, err
	}
	var drops []string
	for _, t := range ts {
		for _, op := range Ops {
			drops = append(drops, d.Render("drop", "{{trigger}}", d.Trigger(t, op.Suffix), "{{table}}", d.Ref(t)))
		}
	}
	return drops, nil
}
