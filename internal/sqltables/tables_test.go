package sqltables

import (
	"slices"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"select", "SELECT n FROM numbers WHERE n > 1", []string{"numbers"}},
		{"lower case and newlines", "select n\nfrom\n\tNumbers", []string{"numbers"}},
		{"join", "SELECT * FROM a JOIN b ON a.id = b.id LEFT OUTER JOIN c USING (id)", []string{"a", "b", "c"}},
		{"comma join", "SELECT * FROM a, b WHERE a.id = b.id", []string{"a", "b"}},
		{"comma join with aliases", "SELECT * FROM a AS x, b y, s.c z WHERE x.id = y.id", []string{"a", "b", "c"}},
		{"subquery", "SELECT * FROM (SELECT id FROM inner_t) s WHERE id IN (SELECT id FROM other)", []string{"inner_t", "other"}},
		{"cte", "WITH recent AS (SELECT * FROM orders WHERE d > :D) SELECT * FROM recent JOIN customers c ON c.id = recent.cid",
			[]string{"customers", "orders", "recent"}}, // the CTE's own name is a harmless extra
		{"schema qualified", "SELECT * FROM public.numbers", []string{"numbers"}},
		{"three-part name", "SELECT * FROM db.sch.numbers", []string{"numbers"}},
		{"double quoted", `SELECT * FROM "Numbers" JOIN "public"."Other_Table" o ON true`, []string{"numbers", "other_table"}},
		{"backquoted", "SELECT * FROM `shop`.`orders` JOIN `items` USING (id)", []string{"items", "orders"}},
		{"bracketed", "SELECT * FROM [dbo].[orders]", []string{"orders"}},
		{"insert", "INSERT INTO numbers (n) VALUES (:N)", []string{"numbers"}},
		{"insert select", "INSERT INTO archive SELECT * FROM numbers WHERE n < :N", []string{"archive", "numbers"}},
		{"insert ignore", "INSERT IGNORE INTO numbers (n) VALUES (1)", []string{"numbers"}},
		{"replace", "REPLACE INTO numbers (n) VALUES (1)", []string{"numbers"}},
		{"update", "UPDATE numbers SET n = n + 1 WHERE n = :N", []string{"numbers"}},
		{"update only", "UPDATE ONLY numbers SET n = 1", []string{"numbers"}},
		{"update mysql modifiers", "UPDATE LOW_PRIORITY IGNORE numbers SET n = 1", []string{"numbers"}},
		{"update multi-table", "UPDATE a, b SET a.n = b.n WHERE a.id = b.id", []string{"a", "b"}},
		{"update from", "UPDATE a SET n = b.n FROM b WHERE a.id = b.id", []string{"a", "b"}},
		{"delete", "DELETE FROM numbers WHERE n = :N", []string{"numbers"}},
		{"delete only", "DELETE FROM ONLY numbers", []string{"numbers"}},
		{"delete using", "DELETE FROM a USING b WHERE a.id = b.id", []string{"a", "b"}},
		{"delete join", "DELETE a FROM a JOIN b ON a.id = b.id", []string{"a", "b"}},
		{"truncate", "TRUNCATE TABLE numbers", []string{"numbers"}},
		{"merge", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", []string{"s", "t"}},
		{"lateral", "SELECT * FROM a, LATERAL (SELECT * FROM b WHERE b.a = a.id) x", []string{"a", "b"}},
		{"keyword in a string", "SELECT 'from nowhere' AS s FROM numbers", []string{"numbers"}},
		{"keyword in comments", "SELECT 1 -- from x\n FROM numbers /* join y */", []string{"numbers"}},
		{"quote in a string", "SELECT * FROM a WHERE s = 'it''s from b'", []string{"a"}},
		{"statements", "INSERT INTO a VALUES (1); SELECT * FROM b", []string{"a", "b"}},
		{"placeholder after from", "SELECT * FROM numbers WHERE n = :FROM", []string{"numbers"}},
		{"dollar-quoted string", "SELECT $x$ from y $x$, $$join z$$ FROM a", []string{"a"}},
		{"escape string", `SELECT E'\' from b' FROM a`, []string{"a"}},
		{"cast", "SELECT 'numbers'::regclass FROM a WHERE n = $1", []string{"a"}},
		{"table function", "SELECT * FROM generate_series(1, :N) g, b", []string{"b", "generate_series"}},
		{"no tables", "SELECT 1", nil},
		{"dollar identifier", "SELECT * FROM t$1", []string{"t$1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Of(c.sql); !slices.Equal(got, c.want) {
				t.Fatalf("Of(%q) = %q, want %q", c.sql, got, c.want)
			}
		})
	}
}

// FuzzOf: any text, however broken, gives a sorted list of
// distinct, non-empty lower-case names, and never panics.
func FuzzOf(f *testing.F) {
	for _, s := range []string{"SELECT * FROM a, b", `SELECT * FROM "x`, "SELECT 'x", "/* from a", "$tag$ from", "E'\\", "FROM [a", "UPDATE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		got := Of(sql)
		if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("%q: %q", sql, got)
		}
		for _, n := range got {
			if n == "" || n != strings.ToLower(n) {
				t.Fatalf("%q: name %q", sql, n)
			}
		}
	})
}
