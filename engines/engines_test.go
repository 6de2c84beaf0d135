package engines

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestRowWriter(t *testing.T) {
	w, err := NewRowWriter([]string{"i", "f", "s", "b", "n", "x", "d", "t", "ts", "j", "bad", "z"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []func(){
		func() {
			w.Int(1 << 53)
			w.Float(0.1, 64)
			w.String(`"<x>"`)
			w.Bool(true)
			w.Numeric("12.50")
			w.Bytes([]byte{0, 1, 2})
			w.Date(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC))
			w.TimeOfDay(13*time.Hour + 14*time.Minute + 15*time.Second + 500*time.Millisecond)
			w.Timestamp(time.Date(2024, 1, 2, 4, 4, 5, 0, time.FixedZone("X", 3600)))
			w.JSON([]byte(`{"a":[1,2]}`))
			w.JSON([]byte(`{nope`))
			w.Null()
		},
		func() {
			w.Int(1<<53 + 1)
			w.Float(float64(float32(0.1)), 32)
			w.String("")
			w.Bool(false)
			w.Numeric("-0.000001")
			w.Bytes(nil)
			w.Date(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC))
			w.TimeOfDay(0)
			w.Timestamp(time.Date(1999, 12, 31, 23, 59, 59, 123456000, time.UTC))
			w.JSON([]byte(`null`))
			w.Float(math.Inf(-1), 64)
			w.Float(1e-7, 64)
		},
	} {
		w.BeginRow()
		r()
		w.EndRow()
	}
	want := `[{"i":9007199254740992,"f":0.1,"s":"\"\u003cx\u003e\"","b":true,"n":"12.50","x":"AAEC","d":"2024-02-29",` +
		`"t":"13:14:15.5","ts":"2024-01-02T03:04:05Z","j":{"a":[1,2]},"bad":"{nope","z":null},` +
		`{"i":"9007199254740993","f":0.1,"s":"","b":false,"n":"-0.000001","x":"","d":"0001-01-01",` +
		`"t":"00:00:00","ts":"1999-12-31T23:59:59.123456Z","j":null,"bad":"-Infinity","z":1e-7}]`
	if got := string(w.Finish()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if w.Rows() != 2 {
		t.Errorf("rows %d", w.Rows())
	}
	if _, err := NewRowWriter([]string{"a", "b", "a", "b", "a"}); err == nil || err.Error() != "duplicate column names in result: a, b (alias them)" {
		t.Errorf("duplicates: %v", err)
	}
}

func TestStmtCache(t *testing.T) {
	var closed []string
	c := NewStmtCache(2, func(s string) { closed = append(closed, s) })
	c.Put("a", "A")
	c.Put("b", "B")
	c.Get("a") // b is now the least recently used
	c.Put("c", "C")
	if _, ok := c.Get("b"); ok || !slices.Equal(closed, []string{"B"}) {
		t.Fatalf("eviction: closed %v", closed)
	}
	c.Forget("a")
	c.Put("c", "C2") // replacing closes the old statement
	if c.Len() != 1 || !slices.Equal(closed, []string{"B", "A", "C"}) {
		t.Fatalf("len %d closed %v", c.Len(), closed)
	}
	c.Clear()
	if c.Len() != 0 || closed[len(closed)-1] != "C2" {
		t.Fatalf("clear: %v", closed)
	}
}

func TestReturnsRows(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1": true, "  select 1": true, "(SELECT 1) UNION (SELECT 2)": true, "WITH x AS (SELECT 1) SELECT * FROM x": true,
		"-- comment\nSELECT 1": true, "/* c */ VALUES (1)": true, "SHOW TABLES": true, "PRAGMA table_info(t)": true,
		"INSERT INTO t VALUES (1)": false, "UPDATE t SET a = 1": false, "DELETE FROM t": false,
		"INSERT INTO t VALUES (1) RETURNING id": true, "CREATE TABLE t (a INT)": false, "": false, "/* open": false,
	}
	for sql, want := range cases {
		if got := ReturnsRows(sql); got != want {
			t.Errorf("ReturnsRows(%q) = %v, want %v", sql, got, want)
		}
	}
}

func TestModifies(t *testing.T) {
	cases := map[string]bool{
		"SELECT 1": false, "WITH x AS (SELECT 1) SELECT * FROM x": false, "INSERT INTO t VALUES (1)": true,
		"UPDATE t SET a = 1": true, "DELETE FROM t": true, "INSERT INTO t VALUES (1) returning id": true,
		"DELETE FROM t RETURNING *": true,
	}
	for sql, want := range cases {
		if got := Modifies(sql); got != want {
			t.Errorf("Modifies(%q) = %v, want %v", sql, got, want)
		}
	}
}
