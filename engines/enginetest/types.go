package enginetest

import (
	"maps"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/jsonw"
)

// typeCase is one value of a logical type: what is bound on INSERT, and
// the exact JSON it must read back as.
type typeCase struct {
	in   any
	want string
}

// typeCases is the type-mapping table (README, "Types"), edge cases
// included; every type also reads NULL back as null.
func (s *suite) typeCases() map[Type][]typeCase {
	boolTrue, boolFalse := "true", "false"
	if s.f.BoolAsInt {
		boolTrue, boolFalse = "1", "0"
	}
	jsonCase := func(doc string) typeCase {
		if s.f.JSONAsText {
			return typeCase{doc, string(jsonw.String(nil, doc))}
		}
		return typeCase{doc, doc}
	}
	cases := maps.Clone(commonTypeCases)
	cases[Boolean] = []typeCase{
		{true, boolTrue},
		{false, boolFalse},
	}
	cases[JSON] = []typeCase{
		// Documents in the normal form PostgreSQL's jsonb and MySQL's
		// JSON print, so engines that keep the text verbatim agree.
		jsonCase(`{"a": 1, "b": [true, null]}`),
		jsonCase(`[1, 2.5, "x"]`),
		jsonCase(`{"k": "é"}`),
		jsonCase(`"just a string"`),
		jsonCase(`{}`),
	}
	return cases
}

// commonTypeCases are the type cases every engine reads back alike.
var commonTypeCases = map[Type][]typeCase{
	Integer: {
		{int64(0), `0`},
		{int64(-42), `-42`},
		{int64(1 << 53), `9007199254740992`}, // 2^53: still a number
		{int64(-1 << 53), `-9007199254740992`},
		{int64(1<<53 + 1), `"9007199254740993"`}, // beyond: a string
		{int64(-1<<53 - 1), `"-9007199254740993"`},
		{int64(math.MaxInt64), `"9223372036854775807"`},
		{int64(math.MinInt64), `"-9223372036854775808"`},
	},
	Numeric: {
		{"12345678901234567890.123456789", `"12345678901234567890.123456789"`},
		{"-1.500000000", `"-1.500000000"`},
		{"0.000000001", `"0.000000001"`},
	},
	Float: {
		{0.1, `0.1`},
		{-2.5, `-2.5`},
		{1e300, `1e+300`},
		{0.0, `0`},
	},
	Float4: {
		{0.1, `0.1`}, // shortest float32 form, not 0.10000000149011612
		{-2.5, `-2.5`},
		{3.4e38, `3.4e+38`},
	},
	Date: {
		{"2024-01-02", `"2024-01-02"`},
		{"1970-01-01", `"1970-01-01"`},
		{"2000-02-29", `"2000-02-29"`},
	},
	Time: {
		{"13:14:15", `"13:14:15"`},
		{"00:00:00", `"00:00:00"`},
		{"23:59:59", `"23:59:59"`},
	},
	Datetime: {
		{"2024-01-02 13:14:15", `"2024-01-02T13:14:15Z"`}, // zoneless: taken as UTC
		{"2024-01-02 13:14:15.123456", `"2024-01-02T13:14:15.123456Z"`},
		{"1970-01-01 00:00:00", `"1970-01-01T00:00:00Z"`},
	},
	TimestampTZ: {
		{"2024-01-02 13:14:15+02:00", `"2024-01-02T11:14:15Z"`},
		{"2024-06-30 23:30:00.5-01:00", `"2024-07-01T00:30:00.5Z"`},
		{"2024-01-02 13:14:15", `"2024-01-02T13:14:15Z"`}, // zoneless: UTC
	},
	Text: {
		{"héllo wörld", `"héllo wörld"`},
		{"emoji 🎉👍🏽", `"emoji 🎉👍🏽"`},
		{`quotes "double" 'single' \back\`, `"quotes \"double\" 'single' \\back\\"`},
		{"line1\nline2\ttab\r", `"line1\nline2\ttab\r"`},
		{"<a & b>", `"\u003ca \u0026 b\u003e"`},
		{"", `""`},
	},
	String: {
		{"abc", `"abc"`},
		{"ünïcødé ✓", `"ünïcødé ✓"`},
		{"", `""`},
	},
	Bytes: {
		{[]byte{0x00, 0x01, 0x02, 0xff, 'a'}, `"AAEC/2E="`},
		{[]byte("hello"), `"aGVsbG8="`},
	},
}

// typeOrder is the order the type subtests run in.
var typeOrder = []Type{Integer, Numeric, Float, Float4, Boolean, Date, Time, Datetime, TimestampTZ, Text, String, Bytes, JSON}

// testTypes round-trips every case of every type through a column of it,
// comparing the rows' exact JSON bytes, NULL included.
func (s *suite) testTypes(t *testing.T) {
	c, _ := s.open(t, engines.Options{})
	cases := s.typeCases()
	for _, typ := range typeOrder {
		t.Run(string(typ), func(t *testing.T) {
			ddl := s.f.Types[typ]
			if ddl == "" {
				t.Logf("not applicable: Features.Types has no %s type", typ)
				return
			}
			table := "t_" + string(typ)
			s.run(t, c, s.stmt("CREATE TABLE "+table+" (id INTEGER PRIMARY KEY, v "+ddl+")"))
			insert := "INSERT INTO " + table + " (id, v) VALUES (?, ?)"
			cs := append(cases[typ], typeCase{nil, "null"})
			stmts := make([]engines.Statement, len(cs))
			var want strings.Builder
			want.WriteByte('[')
			for i, tc := range cs {
				stmts[i] = s.stmt(insert, int64(i+1), tc.in)
				if i > 0 {
					want.WriteByte(',')
				}
				want.WriteString(`{"id":` + strconv.Itoa(i+1) + `,"v":` + tc.want + `}`)
			}
			want.WriteByte(']')
			s.run(t, c, stmts...)
			res := s.run(t, c, s.stmt("SELECT id, v FROM "+table+" ORDER BY id"))
			wantColumns(t, res, "id", "v")
			wantRows(t, res, want.String())
		})
	}
	t.Run("row of all types", func(t *testing.T) {
		// One row with a column of each type, in an order unlike the
		// table's, each holding its first case.
		var defs, cols, marks, want []string
		var args []any
		for i := len(typeOrder) - 1; i >= 0; i-- {
			typ := typeOrder[i]
			if s.f.Types[typ] == "" {
				continue
			}
			col := "c_" + string(typ)
			defs = append(defs, col+" "+s.f.Types[typ])
			cols = append(cols, col)
			marks = append(marks, "?")
			args = append(args, cases[typ][0].in)
			want = append(want, `"`+col+`":`+cases[typ][0].want)
		}
		s.run(t, c, s.stmt("CREATE TABLE t_all ("+strings.Join(defs, ", ")+")"))
		s.run(t, c, s.stmt("INSERT INTO t_all ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...))
		res := s.run(t, c, s.stmt("SELECT "+strings.Join(cols, ", ")+" FROM t_all"))
		wantColumns(t, res, cols...)
		wantRows(t, res, "[{"+strings.Join(want, ",")+"}]")
	})
}
