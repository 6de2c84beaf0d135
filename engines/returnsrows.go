package engines

import "strings"

// ReturnsRows guesses from its text whether a statement produces a result
// set (SELECT, WITH, VALUES, SHOW, PRAGMA, EXPLAIN, DESCRIBE, or anything
// with RETURNING), for database/sql drivers that must choose between Query
// and Exec before running it. A wrong guess for a write only loses its
// affected-row count; a wrong guess for a query is corrected by the caller.
func ReturnsRows(sql string) bool {
	s := strings.TrimLeft(sql, " \t\r\n(")
	for strings.HasPrefix(s, "--") || strings.HasPrefix(s, "/*") {
		end := "\n"
		if s[1] == '*' {
			end = "*/"
		}
		i := strings.Index(s, end)
		if i < 0 {
			return false
		}
		s = strings.TrimLeft(s[i+len(end):], " \t\r\n(")
	}
	word := s
	if i := strings.IndexAny(s, " \t\r\n(;"); i >= 0 {
		word = s[:i]
	}
	switch strings.ToUpper(word) {
	case "SELECT", "WITH", "VALUES", "SHOW", "PRAGMA", "EXPLAIN", "DESCRIBE", "DESC", "TABLE", "CALL":
		return true
	}
	return hasReturning(s)
}

// Modifies guesses from its text whether a statement changes data: it
// returns no rows, or returns them from a RETURNING clause.
func Modifies(sql string) bool { return !ReturnsRows(sql) || hasReturning(sql) }

func hasReturning(s string) bool { return strings.Contains(strings.ToUpper(s), "RETURNING") }
