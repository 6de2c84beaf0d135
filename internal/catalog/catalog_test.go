package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/params"
)

func TestCompileMaxRows(t *testing.T) {
	entries := []Entry{
		{Ref: 1, SQL: "SELECT n FROM numbers"},
		{Ref: 2, SQL: "SELECT n FROM numbers", MaxRows: 5},
	}
	for _, c := range []struct {
		name     string
		opts     []Option
		def, own int
	}{
		{"built-in default", nil, DefaultMaxRows, 5},
		{"database default", []Option{WithMaxRows(50)}, 50, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			cat, err := Compile("demo", "sqlite", params.Question, time.Second, entries, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			q1, _ := cat.Lookup(1)
			q2, _ := cat.Lookup(2)
			if q1.MaxRows != c.def || q2.MaxRows != c.own || q1.Entry.MaxRows != 0 {
				t.Fatalf("max rows %d %d (entry %d)", q1.MaxRows, q2.MaxRows, q1.Entry.MaxRows)
			}
		})
	}
	_, err := Compile("demo", "sqlite", params.Question, time.Second, []Entry{{Ref: 3, SQL: "SELECT 1", MaxRows: -1}})
	if err == nil || !strings.Contains(err.Error(), "ref 3: timeout_ms, cache_ttl_s and max_rows must not be negative") {
		t.Fatalf("err %v", err)
	}
}
