package system

import "strings"

// Sections splits an engine's trigger DDL (its ddl/triggers.sql) by
// section: each "-- name: X" line starts section X, which runs as one
// statement (or is one SQL fragment) even when it holds semicolons. Other
// lines that start with "--" are comments and dropped; a trailing
// semicolon is trimmed. Sections hold {{token}} placeholders that Dialect
// and each engine's InstallTriggers fill.
func Sections(text string) map[string]string {
	out := make(map[string]string)
	var name string
	var body []string
	flush := func() {
		if name != "" {
			s := strings.TrimSpace(strings.Join(body, "\n"))
			out[name] = strings.TrimSpace(strings.TrimSuffix(s, ";"))
		}
		body = body[:0]
	}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		t := strings.TrimSpace(line)
		if n, ok := strings.CutPrefix(t, "-- name:"); ok {
			flush()
			name = strings.TrimSpace(n)
			continue
		}
		if strings.HasPrefix(t, "--") {
			continue
		}
		body = append(body, line)
	}
	flush()
	return out
}
