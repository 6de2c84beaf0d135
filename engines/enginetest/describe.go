package enginetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// testDescribe: a Conn that is an engines.Describer names a statement's
// columns in order, with the JSON types its rows are then written in; it
// does not run the statement (the engine's Sleep is described at once).
func (s *suite) testDescribe(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	d, ok := c.(engines.Describer)
	if !ok {
		t.Skip("the engine's connections do not describe statements")
	}
	s.run(t, c, s.stmt("CREATE TABLE described (id "+s.typ(Integer)+" PRIMARY KEY, name "+s.typ(String)+
		", price "+s.typ(Float)+", ok "+s.typ(Boolean)+", day "+s.typ(Date)+")"))
	s.run(t, c, s.stmt("INSERT INTO described (id, name, price, ok, day) VALUES (?, ?, ?, ?, ?)",
		int64(1), "one", 1.5, true, "2024-02-29"))
	st := s.stmt("SELECT id, name, price, ok, day FROM described WHERE id >= ? ORDER BY id", int64(0))
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	cols, err := d.Describe(ctx, st.SQL, len(st.Args))
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	var names []string
	for _, col := range cols {
		names = append(names, col.Name)
	}
	if !slices.Equal(names, []string{"id", "name", "price", "ok", "day"}) {
		t.Fatalf("columns %v", names)
	}
	for i, want := range []string{"integer", "string", "number", "boolean", "string"} {
		if !slices.Contains(cols[i].JSON, want) {
			t.Errorf("%s (%s): JSON %v, want %s", cols[i].Name, cols[i].DatabaseType, cols[i].JSON, want)
		}
	}
	// What a Run writes fits the description.
	res := s.run(t, c, st)
	var rows []map[string]any
	if err := json.Unmarshal(res.Rows, &rows); err != nil || len(rows) != 1 {
		t.Fatalf("rows %s: %v", res.Rows, err)
	}
	for _, col := range cols {
		if got := jsonType(rows[0][col.Name]); col.JSON != nil && !slices.Contains(col.JSON, got) {
			t.Errorf("%s is a JSON %s, described as %v", col.Name, got, col.JSON)
		}
	}
	if s.f.Sleep == "" {
		return
	}
	sctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	start := time.Now()
	_, err = d.Describe(sctx, s.f.Sleep, 0)
	took := time.Since(start)
	switch {
	case !s.f.DescribeRuns && err != nil:
		t.Fatalf("Describe(Sleep): %v", err)
	case !s.f.DescribeRuns && took > time.Second:
		t.Errorf("Describe(Sleep) took %v: the statement ran", took)
	case took > 1900*time.Millisecond:
		t.Errorf("Describe(Sleep) took %v: not bounded by its deadline", took)
	}
	if s.f.DescribeRuns {
		// The connection is still usable after a description cut short.
		s.run(t, c, s.stmt("SELECT 1 AS one"))
	}
}

// jsonType is the JSON Schema type of a decoded JSON value.
func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	}
	return "object"
}
