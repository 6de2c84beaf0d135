package engines

import "context"

// Engine opens connections to one kind of database.
type Engine interface {
	// Name is the engine's config name: postgres, mysql, sqlite or db2.
	Name() string
	// Style is the placeholder style the engine's SQL uses.
	Style() PlaceholderStyle
	// Open makes one persistent connection from a DSN in the engine's form.
	Open(ctx context.Context, dsn string, opts Options) (Conn, error)
	// System runs dqm's own statements on the engine's connections
	// (system.go).
	System() System
}

// PlaceholderStyle is how an engine's SQL writes bind placeholders. dqm
// rewrites a catalog template's :NAME placeholders into it.
type PlaceholderStyle int

const (
	// Dollar is PostgreSQL's style: $1..$n, one number per distinct name,
	// reused for repeated occurrences and restarted at $1 in every
	// statement.
	Dollar PlaceholderStyle = iota + 1
	// Question is the style of MySQL, SQLite and DB2: every occurrence
	// becomes ?, so a repeated name is bound once per occurrence.
	Question
)

// Conn is one persistent connection, used by one goroutine at a time.
type Conn interface {
	// Run executes stmts. A single statement runs alone; several run in one
	// transaction that is rolled back on any error. Rows come from the last
	// statement without Finish; Affected has one count per statement. A
	// statement with Finish takes its arguments from the result so far
	// (Statement.Bind). The context's deadline is the statement timeout.
	Run(ctx context.Context, stmts []Statement) (*Result, error)
	// Ping checks that the connection is alive.
	Ping(ctx context.Context) error
	// Close releases the connection and its prepared statements.
	Close() error
}

// Statement is SQL already rewritten to the engine's placeholder style, with
// its arguments in bind order.
type Statement struct {
	SQL  string
	Args []any
	// Finish, if set, computes the statement's arguments (Args is then
	// ignored) from the result of the statements before it in the same
	// transaction: how a write stores its own outcome in its idempotency
	// record and commits both at once (System.Outcome). Its rows, if
	// any, are not the result's.
	Finish func(res *Result) []any
}

// Bind returns st with its arguments computed from res when it has a
// Finish; the engines call it for each statement just before running it.
func (st Statement) Bind(res *Result) Statement {
	if st.Finish != nil {
		st.Args = st.Finish(res)
	}
	return st
}

// RowsFrom is the index of the statement whose rows a Run returns: the
// last one without Finish (the last one, if all have it).
func RowsFrom(stmts []Statement) int {
	for i := len(stmts) - 1; i >= 0; i-- {
		if stmts[i].Finish == nil {
			return i
		}
	}
	return len(stmts) - 1
}

// Result is what a Run returns.
type Result struct {
	Columns  []string
	Rows     []byte // JSON array of objects, keys in column order
	RowCount int
	Affected []int64
}

// Options tune a connection.
type Options struct {
	// StmtCacheSize bounds the prepared-statement LRU (0: DefaultStmtCacheSize).
	StmtCacheSize int
	// ApplicationName names the connection to the database's own views
	// (PostgreSQL application_name, MySQL/MariaDB connection attributes),
	// e.g. "dqm vm-1a2b DQM-Demo-01-F"; a DSN that sets its own wins.
	ApplicationName string
}

// DefaultStmtCacheSize is used when Options.StmtCacheSize is 0.
const DefaultStmtCacheSize = 128
