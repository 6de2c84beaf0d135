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

// TestCompileDirect: an entry is on the direct lane when it says so or
// the database's direct_reads is on, and only if it is a read; an entry
// that says direct and writes is refused at load, naming its ref.
func TestCompileDirect(t *testing.T) {
	entries := []Entry{
		{Ref: 1, SQL: "SELECT n FROM numbers", Direct: true},
		{Ref: 2, SQL: "SELECT n FROM numbers"},
		{Ref: 3, SQL: "INSERT INTO numbers (n) VALUES (:N)"},
	}
	for _, c := range []struct {
		name       string
		opts       []Option
		r1, r2, r3 bool
	}{
		{"entries only", nil, true, false, false},
		{"direct_reads", []Option{WithDirectReads(true)}, true, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cat, err := Compile("demo", "sqlite", params.Question, time.Second, entries, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := func(ref int64) bool { q, _ := cat.Lookup(ref); return q.Direct }
			if got(1) != c.r1 || got(2) != c.r2 || got(3) != c.r3 || !cat.HasDirect() {
				t.Fatalf("direct %v %v %v, has %v", got(1), got(2), got(3), cat.HasDirect())
			}
			if q, _ := cat.Lookup(2); q.Entry.Direct {
				t.Fatal("the entry keeps its own value")
			}
		})
	}
	cat, err := Compile("demo", "sqlite", params.Question, time.Second, entries[1:])
	if err != nil || cat.HasDirect() {
		t.Fatalf("no direct entry: has %v, err %v", cat.HasDirect(), err)
	}
	cat, err = Compile("demo", "sqlite", params.Question, time.Second, []Entry{
		{Ref: 1, SQL: "SELECT 1"},
		{Ref: 7, SQL: "UPDATE numbers SET n = n + 1", Direct: true},
	})
	if err == nil || !strings.Contains(err.Error(), "ref 7: direct: true, but the entry modifies data") {
		t.Fatalf("err %v", err)
	}
	if _, ok := cat.Lookup(7); ok {
		t.Fatal("the direct write is in the catalog")
	}
	if _, ok := cat.Lookup(1); !ok {
		t.Fatal("the other entries are still usable")
	}
}

// TestCompileParamTypes: declared types name the template's parameters
// and known groups; every problem is reported with its ref.
func TestCompileParamTypes(t *testing.T) {
	sql := "SELECT n FROM numbers WHERE n BETWEEN :START AND :FINISH"
	entries := []Entry{
		{Ref: 1, SQL: sql, ParamTypes: map[string]string{"START": "INTEGER", "FINISH": "INTEGER"}},
		{Ref: 2, SQL: sql, ParamTypes: map[string]string{"START": "INTEGER", "STOP": "INTEGER"}},
		{Ref: 3, SQL: sql, ParamTypes: map[string]string{"START": "NUMBER", "FINISH": ""}},
		{Ref: 4, SQL: sql},
	}
	cat, err := Compile("demo", "sqlite", params.Question, time.Second, entries)
	want := []string{
		`ref 2: param_types: STOP is not a parameter of the SQL`,
		`ref 3: param_types: FINISH: "" is not a type group`,
		`START: "NUMBER" is not a type group`,
	}
	for _, w := range want {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err %v, want it to contain %q", err, w)
		}
	}
	if q, ok := cat.Lookup(1); !ok || q.ParamTypes["FINISH"] != "INTEGER" {
		t.Fatalf("ref 1: %+v", q)
	}
	if _, ok := cat.Lookup(4); !ok {
		t.Fatal("ref 4 without param_types is not compiled")
	}
}
