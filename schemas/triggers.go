package schemas

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed ddl/triggers/*.sql
var triggerDDL embed.FS

// TriggerDDL returns the change-capture SQL of an engine (postgres, mysql,
// sqlite or db2) by section: each "-- name: X" line of
// ddl/triggers/<engine>.sql starts section X, which runs as one statement
// (or is one SQL fragment) even when it holds semicolons. Other lines that
// start with "--" are comments and dropped; a trailing semicolon is
// trimmed. Sections hold {{token}} placeholders that engines/internal/system
// and each engine's InstallTriggers fill.
func TriggerDDL(engine string) (map[string]string, error) {
	b, err := triggerDDL.ReadFile("ddl/triggers/" + engine + ".sql")
	if err != nil {
		return nil, fmt.Errorf("no trigger DDL for engine %q", engine)
	}
	return sections(string(b)), nil
}

func sections(text string) map[string]string {
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
