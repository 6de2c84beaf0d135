package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
)

// tableColumns is the select list of a queries table, in Entry order.
const tableColumns = `ref, name, description, sql_text, sql_postgres, sql_mysql, sql_sqlite, sql_db2,
 queue, is_public, timeout_ms, cache_ttl_s, tables_list`

// ReadTable reads the active entries for database from a queries table
// through conn. Rows whose database_name is empty belong to the database
// that holds the table (tier 1); a host database's table (tier 2) holds
// rows for other databases by name. table is an identifier from the
// config, checked by the caller; the database name is bound.
func ReadTable(ctx context.Context, conn engines.Conn, style params.Style, table, database string, tier1 bool) ([]Entry, error) {
	where := "database_name = " + placeholder(style, 1)
	args := []any{database}
	if tier1 {
		where = "(database_name = '' OR database_name = " + placeholder(style, 1) + ")"
	}
	sql := "SELECT " + tableColumns + " FROM " + table + " WHERE " + where + " AND status = 'active' ORDER BY ref"
	res, err := conn.Run(ctx, []engines.Statement{{SQL: sql, Args: args}})
	if err != nil {
		return nil, fmt.Errorf("read catalog table %s: %w", table, err)
	}
	var rows []struct {
		Ref         int64   `json:"ref"`
		Name        string  `json:"name"`
		Description *string `json:"description"`
		SQL         *string `json:"sql_text"`
		Postgres    *string `json:"sql_postgres"`
		MySQL       *string `json:"sql_mysql"`
		SQLite      *string `json:"sql_sqlite"`
		DB2         *string `json:"sql_db2"`
		Queue       string  `json:"queue"`
		Public      flag    `json:"is_public"`
		TimeoutMS   int     `json:"timeout_ms"`
		CacheTTLS   int     `json:"cache_ttl_s"`
		Tables      *string `json:"tables_list"`
	}
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		return nil, fmt.Errorf("read catalog table %s: %w", table, err)
	}
	entries := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e := Entry{Ref: r.Ref, Name: r.Name, Description: str(r.Description), SQL: str(r.SQL),
			Queue: r.Queue, Public: bool(r.Public), TimeoutMS: r.TimeoutMS, CacheTTLS: r.CacheTTLS}
		for engine, s := range map[string]*string{"postgres": r.Postgres, "mysql": r.MySQL, "sqlite": r.SQLite, "db2": r.DB2} {
			if s != nil && *s != "" {
				if e.SQLByEngine == nil {
					e.SQLByEngine = map[string]string{}
				}
				e.SQLByEngine[engine] = *s
			}
		}
		for _, t := range strings.Split(str(r.Tables), ",") {
			if t = strings.TrimSpace(t); t != "" {
				e.Tables = append(e.Tables, strings.ToLower(t))
			}
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// flag reads a boolean column stored as a boolean or as 0/1.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", "1", `"1"`, `"t"`, `"true"`:
		*f = true
	default:
		*f = false
	}
	return nil
}

func placeholder(style params.Style, n int) string {
	if style == params.Dollar {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}
