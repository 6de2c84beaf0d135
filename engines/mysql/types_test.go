package mysql

import (
	"database/sql/driver"
	"strings"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
)

func TestKindOf(t *testing.T) {
	for _, tt := range []struct {
		name    string
		width   uint32
		flags   uint16
		mariadb bool
		want    kind
	}{
		{"TINYINT", 1, 0, true, kindBool},
		{"TINYINT", 4, 0, true, kindInt},
		{"TINYINT", 0, 0, true, kindInt}, // width unknown: stays an integer
		{"UNSIGNED TINYINT", 1, 0, false, kindBool},
		{"BIT", 1, 0, false, kindBool},
		{"BIT", 9, 0, false, kindBit},
		{"UNSIGNED BIGINT", 20, 0, false, kindUint},
		{"BIGINT", 20, 0, false, kindInt},
		{"DECIMAL", 10, 0, false, kindDecimal},
		{"FLOAT", 12, 0, false, kindFloat32},
		{"DOUBLE", 22, 0, false, kindFloat64},
		{"DATE", 10, 0, false, kindDate},
		{"DATETIME", 26, 0, false, kindTimestamp},
		{"TIMESTAMP", 19, 0, false, kindTimestamp},
		{"TIME", 10, 0, false, kindTime},
		{"VARBINARY", 10, flagBinary, false, kindBytes},
		{"JSON", longText, 0, false, kindJSON},
		{"TEXT", longText, flagBinary | 0x10, true, kindJSON}, // MariaDB JSON: LONGTEXT COLLATE utf8mb4_bin
		{"TEXT", longText, flagBinary | 0x10, false, kindText},
		{"TEXT", longText, 0x10, true, kindText},
		{"TEXT", 262140, flagBinary | 0x10, true, kindText},
		{"VARCHAR", 800, 0, true, kindText},
		{"ENUM", 4, 0, true, kindText},
		{"SOMETHING NEW", 4, 0, true, kindText},
	} {
		if got := kindOf(tt.name, tt.width, tt.flags, tt.mariadb); got != tt.want {
			t.Errorf("kindOf(%s, %d, %#x, %v) = %d, want %d", tt.name, tt.width, tt.flags, tt.mariadb, got, tt.want)
		}
	}
}

func TestEncode(t *testing.T) {
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		k    kind
		v    driver.Value
		want string
	}{
		{kindInt, nil, "null"},
		{kindInt, int64(-5), "-5"},
		{kindBool, int64(0), "false"},
		{kindBool, int64(2), "true"},
		{kindBool, []byte{1}, "true"},
		{kindBit, []byte{1, 1}, "257"},
		{kindUint, int64(7), "7"},
		{kindUint, []byte("18446744073709551615"), `"18446744073709551615"`},
		{kindDecimal, []byte("-0.50"), `"-0.50"`},
		{kindFloat32, float32(0.1), "0.1"},
		{kindFloat64, 0.1, "0.1"},
		{kindDate, ts, `"2024-01-02"`},
		{kindDate, time.Time{}, "null"}, // 0000-00-00
		{kindTimestamp, ts, `"2024-01-02T03:04:05Z"`},
		{kindTime, []byte("-838:59:59.000001"), `"-838:59:59.000001"`},
		{kindTime, []byte("12:00:00.500"), `"12:00:00.5"`},
		{kindTime, []byte("garbage"), `"garbage"`},
		{kindBytes, []byte{0xff}, `"/w=="`},
		{kindJSON, []byte(`{"a":1}`), `{"a":1}`},
		{kindJSON, []byte(`not json`), `"not json"`},
		{kindText, []byte("é\n"), `"é\n"`},
	} {
		w, _ := engines.NewRowWriter([]string{"c"})
		w.BeginRow()
		encode(w, tt.k, tt.v)
		w.EndRow()
		want := `[{"c":` + tt.want + `}]`
		if got := string(w.Finish()); got != want {
			t.Errorf("encode(%d, %#v) = %s, want %s", tt.k, tt.v, got, want)
		}
	}
}

func TestLimitFor(t *testing.T) {
	for _, tt := range []struct {
		mariadb bool
		d       time.Duration
		want    string
	}{
		{true, 512 * time.Millisecond, "SET SESSION max_statement_time = 0.512"},
		{true, 0, "SET SESSION max_statement_time = 0"},
		{false, 32768 * time.Millisecond, "SET SESSION max_execution_time = 32768"},
	} {
		if got := limitSQL(tt.mariadb, tt.d); got != tt.want {
			t.Errorf("limitSQL(%v, %v) = %q, want %q", tt.mariadb, tt.d, got, tt.want)
		}
	}
}

// BenchmarkEncodeRow: the per-row cost of the type mapping for a typical
// row (no server: values as the driver delivers them).
func BenchmarkEncodeRow(b *testing.B) {
	kinds := []kind{kindInt, kindText, kindDecimal, kindTimestamp, kindBool, kindFloat64}
	row := []driver.Value{int64(42), []byte(strings.Repeat("some name here ", 10)), []byte("1234.50"),
		time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), int64(1), 0.25}
	cols := []string{"id", "name", "amount", "at", "ok", "ratio"}
	b.ReportAllocs()
	for b.Loop() {
		w, _ := engines.NewRowWriter(cols)
		for range 100 {
			w.BeginRow()
			for i, v := range row {
				encode(w, kinds[i], v)
			}
			w.EndRow()
		}
		_ = w.Finish()
	}
}
