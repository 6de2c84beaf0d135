package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/engines/enginetest"
	"github.com/dqmhq/dqm/engines/postgres"
	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

func TestConformance(t *testing.T) {
	base := testutil.PostgresURL(t)
	enginetest.Run(t, enginetest.Harness{
		Engine:   postgres.New(),
		DSN:      func(t *testing.T) string { return scratch(t, base) },
		Features: features,
	})
}

var features = enginetest.Features{
	Types: map[enginetest.Type]string{
		enginetest.Integer:     "BIGINT",
		enginetest.Numeric:     "NUMERIC(38,9)",
		enginetest.Float:       "DOUBLE PRECISION",
		enginetest.Float4:      "REAL",
		enginetest.Boolean:     "BOOLEAN",
		enginetest.Date:        "DATE",
		enginetest.Time:        "TIME",
		enginetest.Datetime:    "TIMESTAMP",
		enginetest.TimestampTZ: "TIMESTAMPTZ",
		enginetest.Text:        "TEXT",
		enginetest.String:      "VARCHAR(200)",
		enginetest.Bytes:       "BYTEA",
		enginetest.JSON:        "JSONB",
	},
	Casts: map[enginetest.Type]string{
		enginetest.Integer:  "BIGINT",
		enginetest.String:   "VARCHAR",
		enginetest.Boolean:  "BOOLEAN",
		enginetest.Float:    "DOUBLE PRECISION",
		enginetest.Text:     "TEXT",
		enginetest.Date:     "DATE",
		enginetest.Time:     "TIME",
		enginetest.Datetime: "TIMESTAMP",
	},
	Sleep:          "SELECT pg_sleep(2)",
	UnreachableDSN: "postgresql://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5",
	Kill:           kill,
}

// scratch creates a schema of its own for one test, dropped when the test
// ends, and returns a DSN whose search_path is that schema and whose
// application_name names it.
func scratch(t testing.TB, base string) string {
	t.Helper()
	schema := fmt.Sprintf("dqmt_%016x", rand.Uint64())
	admin(t, base, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { admin(t, base, "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin runs one statement on a connection of its own.
func admin(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("admin connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("admin %q: %v", sql, err)
	}
}

// kill terminates conn's backend from another connection, as an
// administrator would, and waits until it has exited.
func kill(ctx context.Context, dsn string, conn engines.Conn) error {
	res, err := conn.Run(ctx, []engines.Statement{{SQL: "SELECT pg_backend_pid() AS pid"}})
	if err != nil {
		return err
	}
	var rows []struct{ PID int }
	if err := json.Unmarshal(res.Rows, &rows); err != nil || len(rows) != 1 {
		return fmt.Errorf("backend pid from %s: %v", res.Rows, err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	var ok bool
	if err := c.QueryRow(ctx, "SELECT pg_terminate_backend($1, 10000)", rows[0].PID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("backend %d did not exit", rows[0].PID)
	}
	return nil
}

// open connects to a fresh schema.
func open(t *testing.T) engines.Conn {
	t.Helper()
	return openDSN(t, scratch(t, testutil.PostgresURL(t)))
}

func openDSN(t testing.TB, dsn string) engines.Conn {
	t.Helper()
	c, err := postgres.New().Open(t.Context(), dsn, engines.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func run(t testing.TB, c engines.Conn, sql string, args ...any) *engines.Result {
	t.Helper()
	res, err := c.Run(t.Context(), []engines.Statement{{SQL: sql, Args: args}})
	if err != nil {
		t.Fatalf("Run(%q): %v", sql, err)
	}
	return res
}

// TestTypes covers what only PostgreSQL has: the types outside the
// common table, which read as their text form, and special values.
func TestTypes(t *testing.T) {
	t.Parallel()
	c := open(t)
	run(t, c, "CREATE TYPE mood AS ENUM ('sad', 'happy')")
	run(t, c, "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)")
	for _, tc := range []struct {
		expr string
		want string
	}{
		{"1::int2", `1`},
		{"(-32768)::int2", `-32768`},
		{"2147483647::int4", `2147483647`},
		{"'pg_class'::regclass::oid", `1259`},
		{"'text'", `"text"`},
		{"'padded'::char(8)", `"padded  "`},
		{"'name'::name", `"name"`},
		{`'{"b": 1,  "a": [1, 2]}'::json`, `{"b": 1,  "a": [1, 2]}`}, // json keeps its text
		{`'{"b": 1,  "a": [1, 2]}'::jsonb`, `{"a": [1, 2], "b": 1}`}, // jsonb normalises it
		{"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"'1 day 02:03:04'::interval", `"1 day 02:03:04"`},
		{"ARRAY[1, 2, 3]", `"{1,2,3}"`},
		{"ARRAY['a b', NULL]", `"{\"a b\",NULL}"`},
		{"'13:14:15+02'::timetz", `"13:14:15+02"`},
		{"'happy'::mood", `"happy"`},
		{"5::posint", `5`}, // a domain reads as its base type
		{"'192.168.0.1/24'::inet", `"192.168.0.1/24"`},
		{"'NaN'::numeric", `"NaN"`},
		{"'Infinity'::numeric", `"Infinity"`},
		{"'-Infinity'::numeric", `"-Infinity"`},
		{"1.10::numeric", `"1.10"`},
		{"0::numeric(5,2)", `"0.00"`},
		{"'NaN'::float8", `"NaN"`},
		{"'-Infinity'::float4", `"-Infinity"`},
		{"1e-7::float8", `1e-7`},
		{"'infinity'::date", `"infinity"`},
		{"'-infinity'::date", `"-infinity"`},
		{"'infinity'::timestamp", `"infinity"`},
		{"'-infinity'::timestamptz", `"-infinity"`},
		{"'0001-01-01'::date", `"0001-01-01"`},
		{"'1969-12-31 23:59:59.999999'::timestamp", `"1969-12-31T23:59:59.999999Z"`},
		{"'2024-01-02 03:04:05'::timestamptz", `"2024-01-02T03:04:05Z"`}, // session TimeZone is UTC
		{"'24:00:00'::time", `"24:00:00"`},
		{"'13:14:15.5'::time", `"13:14:15.5"`},
		{"'\\x00ff'::bytea", `"AP8="`},
		{"''::bytea", `""`},
		{"NULL::mood", `null`},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			res := run(t, c, "SELECT "+tc.expr+" AS v")
			if got, want := string(res.Rows), `[{"v":`+tc.want+`}]`; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestNumericMatchesServerText checks the binary NUMERIC decoder against
// PostgreSQL's own text output for a spread of values and scales.
func TestNumericMatchesServerText(t *testing.T) {
	t.Parallel()
	c := open(t)
	values := []string{
		"0", "0.0", "-0.5", "1", "-1", "9999", "10000", "10001", "99999999", "100000000",
		"0.0001", "0.00001", "0.000000001", "1.10", "-1234.5678", "12345678901234567890.123456789",
		"1e-30", "1e30", "-1.5e-10", "123456789012345678901234567890.000000000000000001",
		"3.14159265358979323846264338327950288", "0.1000", "1000000000000000000000.0000",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		values = append(values, fmt.Sprintf("%d.%0*d", r.Int64N(1e15)-5e14, r.IntN(12)+1, r.Int64N(1e6)))
	}
	for _, v := range values {
		res := run(t, c, "SELECT $1::numeric AS n, $1::numeric::text AS t", v)
		var rows []struct{ N, T string }
		if err := json.Unmarshal(res.Rows, &rows); err != nil {
			t.Fatal(err)
		}
		if rows[0].N != rows[0].T {
			t.Errorf("%s: decoded %q, server prints %q", v, rows[0].N, rows[0].T)
		}
	}
}

func TestSessionTimeZone(t *testing.T) {
	t.Parallel()
	dsn := scratch(t, testutil.PostgresURL(t))
	if got := string(run(t, openDSN(t, dsn), "SHOW timezone").Rows); got != `[{"TimeZone":"UTC"}]` {
		t.Errorf("default session time zone: %s, want UTC", got)
	}
	res := run(t, openDSN(t, dsn+"&timezone=Asia%2FTokyo"), "SELECT current_setting('TimeZone') AS tz, '2024-01-02 09:00:00'::timestamptz AS ts")
	if got := string(res.Rows); got != `[{"tz":"Asia/Tokyo","ts":"2024-01-02T00:00:00Z"}]` {
		t.Errorf("DSN time zone: %s", got)
	}
}

// TestTemporalStringParams binds the contract's temporal strings to every
// date-time parameter type, in WHERE and as values.
func TestTemporalStringParams(t *testing.T) {
	t.Parallel()
	c := open(t)
	res := run(t, c, "SELECT $1::date AS d, $2::time AS t, $3::timestamp AS ts, $4::timestamptz AS tz, $5::timetz AS ttz, $6::interval AS i",
		"2024-01-02", "13:14:15", "2024-01-02 13:14:15.123456", "2024-01-02 13:14:15", "13:14:15", "1 day")
	want := `[{"d":"2024-01-02","t":"13:14:15","ts":"2024-01-02T13:14:15.123456Z","tz":"2024-01-02T13:14:15Z","ttz":"13:14:15+00","i":"1 day"}]`
	if string(res.Rows) != want {
		t.Errorf("got  %s\nwant %s", res.Rows, want)
	}
}

func TestIntegerAndFloatParams(t *testing.T) {
	t.Parallel()
	c := open(t)
	// int64 into smaller integer types, numeric and float; float64 into numeric.
	res := run(t, c, "SELECT $1::int2 AS a, $2::int4 AS b, $3::numeric AS c, $4::float8 AS d, $5::numeric AS e, $6::real AS f",
		int64(7), int64(-8), int64(9007199254740993), int64(3), 0.25, 0.1)
	if want := `[{"a":7,"b":-8,"c":"9007199254740993","d":3,"e":"0.25","f":0.1}]`; string(res.Rows) != want {
		t.Errorf("got  %s\nwant %s", res.Rows, want)
	}
	// Out of range for int4: the database's error, not a panic.
	_, err := c.Run(t.Context(), []engines.Statement{{SQL: "SELECT $1::int4 AS x", Args: []any{int64(1) << 40}}})
	var de *engines.DatabaseError
	if !errors.As(err, &de) || de.Code != schemas.CodeDatabaseError {
		t.Errorf("int4 overflow: %v, want database_error", err)
	}
	run(t, c, "SELECT 1 AS ok")
}

func TestInsertReturningAffected(t *testing.T) {
	t.Parallel()
	c := open(t)
	run(t, c, "CREATE TABLE r (id serial PRIMARY KEY, v text)")
	res := run(t, c, "INSERT INTO r (v) VALUES ('a'), ('b') RETURNING id, v")
	if string(res.Rows) != `[{"id":1,"v":"a"},{"id":2,"v":"b"}]` || fmt.Sprint(res.Affected) != "[2]" {
		t.Errorf("Rows %s Affected %v", res.Rows, res.Affected)
	}
	res = run(t, c, "UPDATE r SET v = 'c'")
	if fmt.Sprint(res.Affected) != "[2]" || string(res.Rows) != "[]" || len(res.Columns) != 0 {
		t.Errorf("UPDATE: Rows %s Columns %q Affected %v", res.Rows, res.Columns, res.Affected)
	}
}

func TestOpenErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{
		"postgresql://user:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgresql://user:s3cret@127.0.0.1:1/db?sslmode=bogus",
		"host=127.0.0.1 port=1 user=u password=s3cret connect_timeout=2 sslmode=disable",
		"postgresql://user:s3cret@[::1",
	} {
		_, err := postgres.New().Open(t.Context(), dsn, engines.Options{})
		if err == nil {
			t.Fatalf("Open(%q) succeeded", dsn)
		}
		var de *engines.DatabaseError
		if !errors.As(err, &de) || de.Code != schemas.CodeUnavailable {
			t.Errorf("Open(%q) = %v, want unavailable", dsn, err)
		}
		if strings.Contains(de.Message, "s3cret") {
			t.Errorf("Open(%q): message %q holds the password", dsn, de.Message)
		}
	}
}

// TestOpenErrorsNameTheServer: a failed connect says where and why.
func TestOpenErrorsNameTheServer(t *testing.T) {
	t.Parallel()
	_, err := postgres.New().Open(t.Context(), "postgresql://user:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", engines.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), "connect to 127.0.0.1:1: ") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err %v", err)
	}
	// A server that answers: the cause is its own message and SQLSTATE.
	base := testutil.PostgresURL(t)
	_, err = postgres.New().Open(t.Context(), base+"&dbname=no_such_db_dqm", engines.Options{})
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:5432: ") || !strings.Contains(err.Error(), "(3D000)") {
		t.Fatalf("err %v", err)
	}
}

// TestApplicationName: a connection names its holder in pg_stat_activity,
// unless the DSN names one itself.
func TestApplicationName(t *testing.T) {
	dsn := testutil.PostgresURL(t) // scratch would name the connection itself
	for _, c := range []struct{ dsn, want string }{
		{dsn, "dqm test DQM-Demo-01-F"},
		{dsn + "&application_name=mine", "mine"},
	} {
		conn, err := postgres.New().Open(t.Context(), c.dsn, engines.Options{ApplicationName: "dqm test DQM-Demo-01-F"})
		if err != nil {
			t.Fatal(err)
		}
		res := run(t, conn, "SELECT current_setting('application_name') AS a")
		conn.Close()
		if string(res.Rows) != `[{"a":"`+c.want+`"}]` {
			t.Errorf("application_name %s, want %s", res.Rows, c.want)
		}
	}
}

// BenchmarkPointQuery is one worker's hot path: a cached statement, one
// row of four columns, encoded to JSON.
func BenchmarkPointQuery(b *testing.B) {
	c := openDSN(b, scratch(b, testutil.PostgresURL(b)))
	run(b, c, "CREATE TABLE numbers (id int PRIMARY KEY, name text, price numeric(12,2), at timestamptz)")
	run(b, c, "INSERT INTO numbers SELECT i, 'n' || i, i * 1.25, '2024-01-02'::timestamptz + i * interval '1 minute' FROM generate_series(1, 1000) i")
	st := []engines.Statement{{SQL: "SELECT id, name, price, at FROM numbers WHERE id = $1", Args: []any{int64(500)}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Run(b.Context(), st); err != nil {
			b.Fatal(err)
		}
	}
}
