package params_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/internal/params"
)

type stmt struct {
	sql  string
	args []string
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		sql      string
		names    []string
		dollar   []stmt
		question []stmt
	}{
		{
			name:     "simple",
			sql:      "SELECT * FROM t WHERE id BETWEEN :START AND :FINISH",
			names:    []string{"START", "FINISH"},
			dollar:   []stmt{{"SELECT * FROM t WHERE id BETWEEN $1 AND $2", []string{"START", "FINISH"}}},
			question: []stmt{{"SELECT * FROM t WHERE id BETWEEN ? AND ?", []string{"START", "FINISH"}}},
		},
		{
			name:     "no placeholders",
			sql:      "SELECT 1",
			dollar:   []stmt{{"SELECT 1", nil}},
			question: []stmt{{"SELECT 1", nil}},
		},
		{
			name:     "repeated name",
			sql:      "SELECT :A, :B, :A, :B, :C",
			names:    []string{"A", "B", "C"},
			dollar:   []stmt{{"SELECT $1, $2, $1, $2, $3", []string{"A", "B", "C"}}},
			question: []stmt{{"SELECT ?, ?, ?, ?, ?", []string{"A", "B", "A", "B", "C"}}},
		},
		{
			name:     "case-sensitive names",
			sql:      "SELECT :a, :A",
			names:    []string{"a", "A"},
			dollar:   []stmt{{"SELECT $1, $2", []string{"a", "A"}}},
			question: []stmt{{"SELECT ?, ?", []string{"a", "A"}}},
		},
		{
			name:     "underscores and digits",
			sql:      "SELECT :_x1,:y_2",
			names:    []string{"_x1", "y_2"},
			dollar:   []stmt{{"SELECT $1,$2", []string{"_x1", "y_2"}}},
			question: []stmt{{"SELECT ?,?", []string{"_x1", "y_2"}}},
		},
		{
			name:     "cast after placeholder",
			sql:      "SELECT :START::int, x::text",
			names:    []string{"START"},
			dollar:   []stmt{{"SELECT $1::int, x::text", []string{"START"}}},
			question: []stmt{{"SELECT ?::int, x::text", []string{"START"}}},
		},
		{
			name:     "double colon name is not a placeholder",
			sql:      "SELECT a ::NAME, b:::C",
			dollar:   []stmt{{"SELECT a ::NAME, b:::C", nil}},
			question: []stmt{{"SELECT a ::NAME, b:::C", nil}},
		},
		{
			name:     "assignment and lone colons",
			sql:      "SELECT @x := 1, a : b, :1, :",
			dollar:   []stmt{{"SELECT @x := 1, a : b, :1, :", nil}},
			question: []stmt{{"SELECT @x := 1, a : b, :1, :", nil}},
		},
		{
			name:     "string",
			sql:      "SELECT '::x', ':NOT', 'it''s :NOT', :YES",
			names:    []string{"YES"},
			dollar:   []stmt{{"SELECT '::x', ':NOT', 'it''s :NOT', $1", []string{"YES"}}},
			question: []stmt{{"SELECT '::x', ':NOT', 'it''s :NOT', ?", []string{"YES"}}},
		},
		{
			name:     "backslash in standard string does not escape",
			sql:      `SELECT 'a\', :A`,
			names:    []string{"A"},
			dollar:   []stmt{{`SELECT 'a\', $1`, []string{"A"}}},
			question: []stmt{{`SELECT 'a\', ?`, []string{"A"}}},
		},
		{
			name:     "E string",
			sql:      `SELECT E'it\'s :NOT', e'\\', :A, E'\\\' :NOT'`,
			names:    []string{"A"},
			dollar:   []stmt{{`SELECT E'it\'s :NOT', e'\\', $1, E'\\\' :NOT'`, []string{"A"}}},
			question: []stmt{{`SELECT E'it\'s :NOT', e'\\', ?, E'\\\' :NOT'`, []string{"A"}}},
		},
		{
			name:     "word ending in e is not an E string",
			sql:      `SELECT type'a\', :A`,
			names:    []string{"A"},
			dollar:   []stmt{{`SELECT type'a\', $1`, []string{"A"}}},
			question: []stmt{{`SELECT type'a\', ?`, []string{"A"}}},
		},
		{
			name:     "double-quoted identifier",
			sql:      `SELECT "col:x", "a""b:NOT" FROM t WHERE c = :C`,
			names:    []string{"C"},
			dollar:   []stmt{{`SELECT "col:x", "a""b:NOT" FROM t WHERE c = $1`, []string{"C"}}},
			question: []stmt{{`SELECT "col:x", "a""b:NOT" FROM t WHERE c = ?`, []string{"C"}}},
		},
		{
			name:     "backtick identifier",
			sql:      "SELECT `a:b`, `x``:NOT` FROM t WHERE c = :C",
			names:    []string{"C"},
			dollar:   []stmt{{"SELECT `a:b`, `x``:NOT` FROM t WHERE c = $1", []string{"C"}}},
			question: []stmt{{"SELECT `a:b`, `x``:NOT` FROM t WHERE c = ?", []string{"C"}}},
		},
		{
			name:     "line comment",
			sql:      "SELECT :A -- :NOT; 'unterminated\n, :B",
			names:    []string{"A", "B"},
			dollar:   []stmt{{"SELECT $1 -- :NOT; 'unterminated\n, $2", []string{"A", "B"}}},
			question: []stmt{{"SELECT ? -- :NOT; 'unterminated\n, ?", []string{"A", "B"}}},
		},
		{
			name:     "line comment at end",
			sql:      "SELECT :A -- :NOT",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT $1 -- :NOT", []string{"A"}}},
			question: []stmt{{"SELECT ? -- :NOT", []string{"A"}}},
		},
		{
			name:     "block comment",
			sql:      "SELECT /* :NOT; ' */ :A",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT /* :NOT; ' */ $1", []string{"A"}}},
			question: []stmt{{"SELECT /* :NOT; ' */ ?", []string{"A"}}},
		},
		{
			name:     "nested block comment",
			sql:      "SELECT /* a /* :NOT */ :NOT2 */ :A",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT /* a /* :NOT */ :NOT2 */ $1", []string{"A"}}},
			question: []stmt{{"SELECT /* a /* :NOT */ :NOT2 */ ?", []string{"A"}}},
		},
		{
			name:     "dollar quote",
			sql:      "SELECT $$ :NOT; ' $$, :A",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT $$ :NOT; ' $$, $1", []string{"A"}}},
			question: []stmt{{"SELECT $$ :NOT; ' $$, ?", []string{"A"}}},
		},
		{
			name:     "tagged dollar quote",
			sql:      "SELECT $fn$ $$ :NOT; $x$ $fn$, :A, $_1$:NOT$_1$",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT $fn$ $$ :NOT; $x$ $fn$, $1, $_1$:NOT$_1$", []string{"A"}}},
			question: []stmt{{"SELECT $fn$ $$ :NOT; $x$ $fn$, ?, $_1$:NOT$_1$", []string{"A"}}},
		},
		{
			name:     "positional dollar is not a quote",
			sql:      "SELECT $1, :A, $2",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT $1, $1, $2", []string{"A"}}},
			question: []stmt{{"SELECT $1, ?, $2", []string{"A"}}},
		},
		{
			name:     "dollar inside identifier is not a quote",
			sql:      "SELECT a$b$, :A, $b$:NOT$b$",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT a$b$, $1, $b$:NOT$b$", []string{"A"}}},
			question: []stmt{{"SELECT a$b$, ?, $b$:NOT$b$", []string{"A"}}},
		},
		{
			name:     "existing question mark untouched",
			sql:      "SELECT ?, :A",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT ?, $1", []string{"A"}}},
			question: []stmt{{"SELECT ?, ?", []string{"A"}}},
		},
		{
			name:     "placeholder glued to word gets a space in dollar style",
			sql:      "SELECT x:A, $:B",
			names:    []string{"A", "B"},
			dollar:   []stmt{{"SELECT x $1, $ $2", []string{"A", "B"}}},
			question: []stmt{{"SELECT x?, $?", []string{"A", "B"}}},
		},
		{
			name:  "multiple statements restart numbering",
			sql:   "INSERT INTO t VALUES (:A, ';'); UPDATE t SET b = :B WHERE a = :A;\n",
			names: []string{"A", "B"},
			dollar: []stmt{
				{"INSERT INTO t VALUES ($1, ';')", []string{"A"}},
				{"UPDATE t SET b = $1 WHERE a = $2", []string{"B", "A"}},
			},
			question: []stmt{
				{"INSERT INTO t VALUES (?, ';')", []string{"A"}},
				{"UPDATE t SET b = ? WHERE a = ?", []string{"B", "A"}},
			},
		},
		{
			name:     "semicolons in quotes comments and dollar quotes",
			sql:      "SELECT ';', \";\", `;` /* ; */ -- ;\n, $$;$$, :A",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT ';', \";\", `;` /* ; */ -- ;\n, $$;$$, $1", []string{"A"}}},
			question: []stmt{{"SELECT ';', \";\", `;` /* ; */ -- ;\n, $$;$$, ?", []string{"A"}}},
		},
		{
			name:     "empty and comment-only statements dropped",
			sql:      " ; -- only a comment\n; /* x */ ;\n  SELECT :A ;; ",
			names:    []string{"A"},
			dollar:   []stmt{{"SELECT $1", []string{"A"}}},
			question: []stmt{{"SELECT ?", []string{"A"}}},
		},
		{
			name:     "leading comment kept",
			sql:      "-- q\nSELECT :A",
			names:    []string{"A"},
			dollar:   []stmt{{"-- q\nSELECT $1", []string{"A"}}},
			question: []stmt{{"-- q\nSELECT ?", []string{"A"}}},
		},
		{
			name:     "function body in dollar quotes stays one statement",
			sql:      "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql; SELECT f(:X)",
			names:    []string{"X"},
			dollar:   []stmt{{"CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql", nil}, {"SELECT f($1)", []string{"X"}}},
			question: []stmt{{"CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql", nil}, {"SELECT f(?)", []string{"X"}}},
		},
		{
			name:     "many parameters",
			sql:      "SELECT :A1,:A2,:A3,:A4,:A5,:A6,:A7,:A8,:A9,:A10,:A1",
			names:    []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"},
			dollar:   []stmt{{"SELECT $1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$1", []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"}}},
			question: []stmt{{"SELECT ?,?,?,?,?,?,?,?,?,?,?", []string{"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "A1"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := params.Parse(tt.sql)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := tpl.Names(); !equalStrings(got, tt.names) {
				t.Errorf("Names() = %q, want %q", got, tt.names)
			}
			checkStatements(t, "Dollar", tpl.Statements(params.Dollar), tt.dollar)
			checkStatements(t, "Question", tpl.Statements(params.Question), tt.question)
		})
	}
}

func checkStatements(t *testing.T, style string, got []params.Statement, want []stmt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d statements %q, want %d", style, len(got), got, len(want))
	}
	for i := range got {
		if got[i].SQL != want[i].sql {
			t.Errorf("%s[%d].SQL = %q, want %q", style, i, got[i].SQL, want[i].sql)
		}
		if !equalStrings(got[i].Args, want[i].args) {
			t.Errorf("%s[%d].Args = %q, want %q", style, i, got[i].Args, want[i].args)
		}
	}
}

// equalStrings treats nil and empty alike.
func equalStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, sql, want string
	}{
		{"empty", "", "no statements"},
		{"whitespace", " \n\t ", "no statements"},
		{"only semicolons", ";;", "no statements"},
		{"only comments", "-- a\n/* b */", "no statements"},
		{"unterminated string", "SELECT 'abc", "line 1, column 8: unterminated string"},
		{"unterminated string after escaped quote", "SELECT 'abc''", "unterminated string"},
		{"unterminated E string", `SELECT E'abc\'`, "unterminated string"},
		{"unterminated identifier", "SELECT \"abc", "unterminated quoted identifier"},
		{"unterminated backtick", "SELECT `abc", "unterminated backtick identifier"},
		{"unterminated block comment", "SELECT 1\n  /* abc", "line 2, column 3: unterminated block comment"},
		{"unterminated nested block comment", "SELECT /* /* */", "unterminated block comment"},
		{"unterminated dollar quote", "SELECT $x$ abc $y$", "unterminated dollar-quoted string $x$"},
		{"placeholder runs into dollar", "SELECT :A$b", "placeholder :A"},
		{"placeholder runs into non-ASCII", "SELECT :Aé", "placeholder :A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := params.Parse(tt.sql)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tt.sql, tpl.Statements(params.Question))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestStatementsUnknownStylePanics(t *testing.T) {
	tpl, err := params.Parse("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	tpl.Statements(params.Style(0))
}

func TestStatementsAreCopies(t *testing.T) {
	tpl, err := params.Parse("SELECT :A")
	if err != nil {
		t.Fatal(err)
	}
	s := tpl.Statements(params.Question)
	s[0].SQL = "changed"
	_ = append(s[0].Args, "X")
	tpl.Names()[0] = "changed"
	if got := tpl.Statements(params.Question)[0]; got.SQL != "SELECT ?" || !equalStrings(got.Args, []string{"A"}) {
		t.Errorf("template changed through a returned slice: %+v", got)
	}
	if got := tpl.Names(); got[0] != "A" {
		t.Errorf("Names changed: %q", got)
	}
}

// raw builds a Raw from a JSON literal.
func raw(t *testing.T, s string) params.Raw {
	t.Helper()
	var r params.Raw
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return r
}

func TestDecodeValid(t *testing.T) {
	tests := []struct {
		name string
		json string
		want params.Values
	}{
		{"empty", `{}`, params.Values{}},
		{"integer", `{"INTEGER": {"START": 500, "FINISH": -600, "Z": 0, "NEG0": -0}}`,
			params.Values{"START": int64(500), "FINISH": int64(-600), "Z": int64(0), "NEG0": int64(0)}},
		{"integer limits", `{"INTEGER": {"MAX": 9223372036854775807, "MIN": -9223372036854775808}}`,
			params.Values{"MAX": int64(9223372036854775807), "MIN": int64(-9223372036854775808)}},
		{"float", `{"FLOAT": {"A": 1.5, "B": 2, "C": -1e3, "D": 2.5E-2}}`,
			params.Values{"A": 1.5, "B": 2.0, "C": -1000.0, "D": 0.025}},
		{"string", `{"STRING": {"NAME": "bob", "E": "", "U": "h\u00e9\n\"x\""}}`,
			params.Values{"NAME": "bob", "E": "", "U": "hé\n\"x\""}},
		{"text", `{"TEXT": {"BODY": "long text é"}}`, params.Values{"BODY": "long text é"}},
		{"boolean", `{"BOOLEAN": {"T": true, "F": false}}`, params.Values{"T": true, "F": false}},
		{"date", `{"DATE": {"D": "2024-02-29"}}`, params.Values{"D": "2024-02-29"}},
		{"time", `{"TIME": {"T": "23:59:59", "Z": "00:00:00"}}`, params.Values{"T": "23:59:59", "Z": "00:00:00"}},
		{"datetime", `{"DATETIME": {"DT": "2024-01-31 10:20:30"}}`, params.Values{"DT": "2024-01-31 10:20:30"}},
		{"timestamp", `{"TIMESTAMP": {"A": "2024-01-31 10:20:30", "B": "2024-01-31 10:20:30.5", "C": "2024-01-31 10:20:30.123456", "D": "2024-01-31 10:20:30.120000", "E": "2024-01-31 10:20:30.000"}}`,
			params.Values{"A": "2024-01-31 10:20:30", "B": "2024-01-31 10:20:30.5", "C": "2024-01-31 10:20:30.123456", "D": "2024-01-31 10:20:30.12", "E": "2024-01-31 10:20:30"}},
		{"nulls in every group", `{"INTEGER": {"A": null}, "FLOAT": {"B": null}, "STRING": {"C": null}, "TEXT": {"D": null}, "BOOLEAN": {"E": null}, "DATE": {"F": null}, "TIME": {"G": null}, "DATETIME": {"H": null}, "TIMESTAMP": {"I": null}}`,
			params.Values{"A": nil, "B": nil, "C": nil, "D": nil, "E": nil, "F": nil, "G": nil, "H": nil, "I": nil}},
		{"mixed", `{"INTEGER": {"START": 500}, "STRING": {"NAME": "bob"}}`,
			params.Values{"START": int64(500), "NAME": "bob"}},
		{"names are case-sensitive", `{"INTEGER": {"a": 1}, "STRING": {"A": "x"}}`,
			params.Values{"a": int64(1), "A": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := params.Decode(raw(t, tt.json))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeHandBuiltRaw(t *testing.T) {
	got, err := params.Decode(params.Raw{"INTEGER": {"A": json.RawMessage(" 7\n")}})
	if err != nil || got["A"] != int64(7) {
		t.Errorf("Decode = %v, %v; want A=7", got, err)
	}
	got, err = params.Decode(nil)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("Decode(nil) = %#v, %v; want empty", got, err)
	}
}

func TestDecodeInvalid(t *testing.T) {
	tests := []struct {
		name     string
		raw      params.Raw
		problems []params.Problem
	}{
		{"integer fraction", one("INTEGER", "A", `1.5`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got 1.5"}}},
		{"integer exponent", one("INTEGER", "A", `1e3`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got 1e3"}}},
		{"integer integral fraction", one("INTEGER", "A", `500.0`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got 500.0"}}},
		{"integer string", one("INTEGER", "A", `"5"`),
			[]params.Problem{{"A", "INTEGER", `expected INTEGER (JSON integer), got "5"`}}},
		{"integer overflow", one("INTEGER", "A", `9223372036854775808`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got 9223372036854775808: out of range for a 64-bit integer"}}},
		{"integer underflow", one("INTEGER", "A", `-9223372036854775809`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got -9223372036854775809: out of range for a 64-bit integer"}}},
		{"integer leading zero", one("INTEGER", "A", `012`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got invalid JSON"}}},
		{"integer hex", one("INTEGER", "A", `0x10`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got invalid JSON"}}},
		{"integer plus", one("INTEGER", "A", `+1`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got invalid JSON"}}},
		{"integer boolean", one("INTEGER", "A", `true`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got true"}}},
		{"integer object", one("INTEGER", "A", `{"x": 1}`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got an object"}}},
		{"integer array", one("INTEGER", "A", `[1]`),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got an array"}}},
		{"integer empty", one("INTEGER", "A", ``),
			[]params.Problem{{"A", "INTEGER", "expected INTEGER (JSON integer), got nothing"}}},
		{"float string", one("FLOAT", "A", `"x"`),
			[]params.Problem{{"A", "FLOAT", `expected FLOAT (JSON number), got "x"`}}},
		{"float overflow", one("FLOAT", "A", `1e400`),
			[]params.Problem{{"A", "FLOAT", "expected FLOAT (JSON number), got 1e400: out of range for a 64-bit float"}}},
		{"float NaN", one("FLOAT", "A", `NaN`),
			[]params.Problem{{"A", "FLOAT", "expected FLOAT (JSON number), got invalid JSON"}}},
		{"float dot", one("FLOAT", "A", `1.`),
			[]params.Problem{{"A", "FLOAT", "expected FLOAT (JSON number), got invalid JSON"}}},
		{"string number", one("STRING", "A", `5`),
			[]params.Problem{{"A", "STRING", "expected STRING (JSON string), got 5"}}},
		{"text boolean", one("TEXT", "A", `false`),
			[]params.Problem{{"A", "TEXT", "expected TEXT (JSON string), got false"}}},
		{"string bad escape", one("STRING", "A", `"\q"`),
			[]params.Problem{{"A", "STRING", "expected STRING (JSON string), got invalid JSON"}}},
		{"boolean number", one("BOOLEAN", "A", `1`),
			[]params.Problem{{"A", "BOOLEAN", "expected BOOLEAN (true or false), got 1"}}},
		{"boolean string", one("BOOLEAN", "A", `"true"`),
			[]params.Problem{{"A", "BOOLEAN", `expected BOOLEAN (true or false), got "true"`}}},
		{"date month", one("DATE", "D", `"2024-13-01"`),
			[]params.Problem{{"D", "DATE", `expected DATE (string "YYYY-MM-DD"), got "2024-13-01": month out of range`}}},
		{"date day", one("DATE", "D", `"2023-02-29"`),
			[]params.Problem{{"D", "DATE", `expected DATE (string "YYYY-MM-DD"), got "2023-02-29": day out of range`}}},
		{"date short", one("DATE", "D", `"2024-1-01"`),
			[]params.Problem{{"D", "DATE", `expected DATE (string "YYYY-MM-DD"), got "2024-1-01"`}}},
		{"date with time", one("DATE", "D", `"2024-01-01 00:00:00"`),
			[]params.Problem{{"D", "DATE", `expected DATE (string "YYYY-MM-DD"), got "2024-01-01 00:00:00"`}}},
		{"date number", one("DATE", "D", `20240101`),
			[]params.Problem{{"D", "DATE", `expected DATE (string "YYYY-MM-DD"), got 20240101`}}},
		{"time hour", one("TIME", "T", `"25:00:00"`),
			[]params.Problem{{"T", "TIME", `expected TIME (string "HH:MM:SS"), got "25:00:00": hour out of range`}}},
		{"time one-digit hour", one("TIME", "T", `"1:00:00"`),
			[]params.Problem{{"T", "TIME", `expected TIME (string "HH:MM:SS"), got "1:00:00"`}}},
		{"time fraction", one("TIME", "T", `"10:00:00.5"`),
			[]params.Problem{{"T", "TIME", `expected TIME (string "HH:MM:SS"), got "10:00:00.5"`}}},
		{"datetime T separator", one("DATETIME", "X", `"2024-01-01T10:00:00"`),
			[]params.Problem{{"X", "DATETIME", `expected DATETIME (string "YYYY-MM-DD HH:MM:SS"), got "2024-01-01T10:00:00"`}}},
		{"datetime fraction", one("DATETIME", "X", `"2024-01-01 10:00:00.1"`),
			[]params.Problem{{"X", "DATETIME", `expected DATETIME (string "YYYY-MM-DD HH:MM:SS"), got "2024-01-01 10:00:00.1"`}}},
		{"timestamp seven digits", one("TIMESTAMP", "X", `"2024-01-01 10:00:00.1234567"`),
			[]params.Problem{{"X", "TIMESTAMP", `expected TIMESTAMP (string "YYYY-MM-DD HH:MM:SS[.ffffff]"), got "2024-01-01 10:00:00.1234567": at most 6 fractional digits`}}},
		{"timestamp bare dot", one("TIMESTAMP", "X", `"2024-01-01 10:00:00."`),
			[]params.Problem{{"X", "TIMESTAMP", `expected TIMESTAMP (string "YYYY-MM-DD HH:MM:SS[.ffffff]"), got "2024-01-01 10:00:00."`}}},
		{"timestamp trailing text", one("TIMESTAMP", "X", `"2024-01-01 10:00:00Z"`),
			[]params.Problem{{"X", "TIMESTAMP", `expected TIMESTAMP (string "YYYY-MM-DD HH:MM:SS[.ffffff]"), got "2024-01-01 10:00:00Z"`}}},
		{"timestamp minute", one("TIMESTAMP", "X", `"2024-01-01 10:60:00.5"`),
			[]params.Problem{{"X", "TIMESTAMP", `expected TIMESTAMP (string "YYYY-MM-DD HH:MM:SS[.ffffff]"), got "2024-01-01 10:60:00.5": minute out of range`}}},
		{"unknown group", params.Raw{"NUMBER": {"A": json.RawMessage(`1`)}},
			[]params.Problem{{"", "NUMBER", `unknown type group "NUMBER" (want one of INTEGER, FLOAT, STRING, TEXT, BOOLEAN, DATE, TIME, DATETIME, TIMESTAMP)`}}},
		{"lower-case group", params.Raw{"integer": {"A": json.RawMessage(`1`)}},
			[]params.Problem{{"", "integer", `unknown type group "integer" (type groups are upper-case: INTEGER)`}}},
		{"same name in two groups",
			params.Raw{"STRING": {"A": json.RawMessage(`"x"`)}, "INTEGER": {"A": json.RawMessage(`1`)}},
			[]params.Problem{{"A", "", "given in more than one type group: INTEGER, STRING"}}},
		{"long value is shortened", one("INTEGER", "A", `"`+strings.Repeat("é", 100)+`"`),
			[]params.Problem{{"A", "INTEGER", `expected INTEGER (JSON integer), got "` + strings.Repeat("é", 31) + `…`}}},
		{"all problems collected in order",
			params.Raw{
				"ZZZ":     {"Q": json.RawMessage(`1`)},
				"AAA":     {"Q": json.RawMessage(`1`)},
				"INTEGER": {"B": json.RawMessage(`"x"`), "A": json.RawMessage(`1.5`), "OK": json.RawMessage(`1`), "D": json.RawMessage(`1`)},
				"BOOLEAN": {"C": json.RawMessage(`0`), "D": json.RawMessage(`true`)},
			},
			[]params.Problem{
				{"", "AAA", `unknown type group "AAA" (want one of INTEGER, FLOAT, STRING, TEXT, BOOLEAN, DATE, TIME, DATETIME, TIMESTAMP)`},
				{"", "ZZZ", `unknown type group "ZZZ" (want one of INTEGER, FLOAT, STRING, TEXT, BOOLEAN, DATE, TIME, DATETIME, TIMESTAMP)`},
				{"A", "INTEGER", "expected INTEGER (JSON integer), got 1.5"},
				{"B", "INTEGER", `expected INTEGER (JSON integer), got "x"`},
				{"C", "BOOLEAN", "expected BOOLEAN (true or false), got 0"},
				{"D", "", "given in more than one type group: BOOLEAN, INTEGER"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := params.Decode(tt.raw)
			if err == nil {
				t.Fatalf("Decode = %#v, want error", got)
			}
			if got != nil {
				t.Errorf("Decode returned values %#v with an error", got)
			}
			var perr *params.Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not *params.Error", err)
			}
			if !reflect.DeepEqual(perr.Problems, tt.problems) {
				t.Errorf("Problems =\n  %q\nwant\n  %q", perr.Problems, tt.problems)
			}
		})
	}
}

func one(group, name, value string) params.Raw {
	return params.Raw{group: {name: json.RawMessage(value)}}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *params.Error
		want string
	}{
		{"brief example", &params.Error{Problems: []params.Problem{
			{"START", "INTEGER", `expected INTEGER (JSON integer), got "abc"`},
			{"FINISH", "", params.ReasonMissing},
		}}, `parameter START: expected INTEGER (JSON integer), got "abc"; missing parameter: FINISH`},
		{"several missing", &params.Error{Problems: []params.Problem{
			{"A", "", params.ReasonMissing}, {"B", "", params.ReasonMissing},
		}}, `missing parameters: A, B`},
		{"unknown group", &params.Error{Problems: []params.Problem{
			{"", "X", `unknown type group "X"`}, {"A", "", "given twice"},
		}}, `unknown type group "X"; parameter A: given twice`},
		{"no problems", &params.Error{}, "invalid parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBind(t *testing.T) {
	tpl, err := params.Parse("INSERT INTO t VALUES (:A, :B, :A); SELECT :C, :N; SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	v := params.Values{"A": int64(1), "B": "x", "C": true, "N": nil}
	tests := []struct {
		name  string
		style params.Style
		want  [][]any
	}{
		{"dollar", params.Dollar, [][]any{{int64(1), "x"}, {true, nil}, nil}},
		{"question", params.Question, [][]any{{int64(1), "x", int64(1)}, {true, nil}, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, s := range tpl.Statements(tt.style) {
				got, err := v.Bind(s)
				if err != nil {
					t.Fatalf("Bind(%q): %v", s.SQL, err)
				}
				if !reflect.DeepEqual(got, tt.want[i]) {
					t.Errorf("Bind(%q) = %#v, want %#v", s.SQL, got, tt.want[i])
				}
			}
		})
	}
}

func TestMissing(t *testing.T) {
	tpl, err := params.Parse("SELECT :Z, :A, :M, :A; SELECT :B")
	if err != nil {
		t.Fatal(err)
	}
	v := params.Values{"M": int64(1), "EXTRA": "x", "B": nil}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"bind question", bindFirst(v, tpl, params.Question), []string{"A", "Z"}},
		{"bind dollar", bindFirst(v, tpl, params.Dollar), []string{"A", "Z"}},
		{"check", v.Check(tpl), []string{"A", "Z"}},
		{"check nil values", params.Values(nil).Check(tpl), []string{"A", "B", "M", "Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var perr *params.Error
			if !errors.As(tt.err, &perr) {
				t.Fatalf("error %v (%T) is not *params.Error", tt.err, tt.err)
			}
			var got []string
			for _, p := range perr.Problems {
				if p.Reason != params.ReasonMissing {
					t.Errorf("problem %+v is not a missing one", p)
				}
				got = append(got, p.Name)
			}
			if !equalStrings(got, tt.want) {
				t.Errorf("missing = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("message", func(t *testing.T) {
		if got, want := v.Check(tpl).Error(), "missing parameters: A, Z"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	})
	t.Run("check passes", func(t *testing.T) {
		full := params.Values{"Z": 1, "A": 2, "M": 3, "B": nil}
		if err := full.Check(tpl); err != nil {
			t.Errorf("Check = %v, want nil", err)
		}
	})
}

func bindFirst(v params.Values, tpl *params.Template, style params.Style) error {
	_, err := v.Bind(tpl.Statements(style)[0])
	return err
}

func TestUnused(t *testing.T) {
	tpl, err := params.Parse("SELECT :A, ':B' -- :C\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    params.Values
		want []string
	}{
		{"none", params.Values{"A": 1}, nil},
		{"some", params.Values{"A": 1, "c": 2, "B": 3, "C": nil}, []string{"B", "C", "c"}},
		{"empty", params.Values{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.Unused(tpl); !equalStrings(got, tt.want) {
				t.Errorf("Unused = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEndToEnd(t *testing.T) {
	tpl, err := params.Parse("SELECT * FROM t WHERE id BETWEEN :START AND :FINISH AND name = :NAME")
	if err != nil {
		t.Fatal(err)
	}
	v, err := params.Decode(raw(t, `{"INTEGER": {"START": 500, "FINISH": 600}, "STRING": {"NAME": "bob"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Check(tpl); err != nil {
		t.Fatal(err)
	}
	args, err := v.Bind(tpl.Statements(params.Dollar)[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{int64(500), int64(600), "bob"}; !reflect.DeepEqual(args, want) {
		t.Errorf("args = %#v, want %#v", args, want)
	}
}

func BenchmarkBind(b *testing.B) {
	tpl, err := params.Parse("SELECT * FROM t WHERE id BETWEEN :START AND :FINISH AND name = :NAME OR id = :START")
	if err != nil {
		b.Fatal(err)
	}
	v := params.Values{"START": int64(500), "FINISH": int64(600), "NAME": "bob"}
	s := tpl.Statements(params.Question)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Bind(s); err != nil {
			b.Fatal(err)
		}
	}
}
