package params_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/internal/params"
)

// FuzzParse checks properties that hold for any template Parse accepts:
// the two styles agree with each other, each introduced placeholder is
// accounted for by exactly one Arg, and rewritten SQL contains no
// placeholders when parsed again (so a rewrite never changes where quotes
// and comments begin, and nothing is left unbound).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT :A",
		"SELECT :A, :B, :A; SELECT :B",
		"SELECT :START::int, x::text, '::x', ':NOT'",
		`SELECT "col:x", ` + "`a:b`" + `, E'\':NOT', e'\\', :A`,
		"SELECT 1 -- :NOT\n, /* /* :NOT */ */ :A",
		"SELECT $$;:NOT$$, $tag$ $$ $tag$, $1, :A, ?",
		"SELECT @x := 1, a : b, :1, x:A, $:B",
		"; ;-- c\n",
		"SELECT 'unterminated",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		tpl, err := params.Parse(sql)
		if err != nil {
			return
		}
		names := tpl.Names()
		for _, n := range names {
			if !validName(n) {
				t.Errorf("invalid name %q", n)
			}
		}
		if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
			t.Errorf("Names() has duplicates: %q", names)
		}

		ds, qs := tpl.Statements(params.Dollar), tpl.Statements(params.Question)
		if len(ds) == 0 || len(ds) != len(qs) {
			t.Fatalf("%d Dollar and %d Question statements", len(ds), len(qs))
		}
		var used []string
		for i := range qs {
			d, q := ds[i], qs[i]
			used = append(used, q.Args...)
			var distinct []string
			for _, a := range q.Args {
				if !slices.Contains(distinct, a) {
					distinct = append(distinct, a)
				}
			}
			if !equalStrings(d.Args, distinct) {
				t.Errorf("statement %d: Dollar Args %q, want distinct Question Args %q", i, d.Args, distinct)
			}
			// The rewrites differ only in what replaced each :NAME.
			if n := strings.Count(q.SQL, "?") - strings.Count(d.SQL, "?"); n != len(q.Args) {
				t.Errorf("statement %d: %d ? introduced, %d Args", i, n, len(q.Args))
			}
			if n := strings.Count(d.SQL, "$") - strings.Count(q.SQL, "$"); n != len(q.Args) {
				t.Errorf("statement %d: %d $n introduced, %d Args", i, n, len(q.Args))
			}
			for _, s := range []params.Statement{d, q} {
				again, err := params.Parse(s.SQL)
				if err != nil {
					t.Fatalf("statement %d: re-parsing %q: %v", i, s.SQL, err)
				}
				if len(again.Names()) != 0 {
					t.Errorf("statement %d: %q still has placeholders %q", i, s.SQL, again.Names())
				}
				if st := again.Statements(params.Question); len(st) != 1 || st[0].SQL != s.SQL {
					t.Errorf("statement %d: %q re-parses as %q", i, s.SQL, st)
				}
			}
		}
		slices.Sort(used)
		want := slices.Sorted(slices.Values(names))
		if !equalStrings(slices.Compact(used), want) {
			t.Errorf("Args use %q, Names() are %q", slices.Compact(used), want)
		}
	})
}

func validName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
