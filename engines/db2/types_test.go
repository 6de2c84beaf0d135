package db2

import (
	"database/sql/driver"
	"testing"
	"time"

	"github.com/dqmhq/dqm/engines"
)

func TestKindOf(t *testing.T) {
	for name, want := range map[string]kind{
		"SMALLINT": kindInt, "INTEGER": kindInt, "BIGINT": kindInt,
		"DECIMAL": kindNumeric, "NUMERIC": kindNumeric, "DECFLOAT": kindNumeric, "DECIMAL(31,9)": kindNumeric,
		"REAL": kindReal, "DOUBLE": kindDouble, "FLOAT": kindDouble, "DOUBLE PRECISION": kindDouble,
		"BOOLEAN": kindBool,
		"CHAR":    kindText, "VARCHAR": kindText, "LONG VARCHAR": kindText, "CLOB": kindText, "GRAPHIC": kindText,
		"VARGRAPHIC": kindText, "DBCLOB": kindText, "XML": kindText,
		"BLOB": kindBytes, "BINARY": kindBytes, "VARBINARY": kindBytes,
		"CHAR () FOR BIT DATA": kindBytes, "VARCHAR () FOR BIT DATA": kindBytes,
		"DATE": kindDate, "TIME": kindTime, "TIMESTAMP": kindTimestamp, "timestamp": kindTimestamp,
		"ROWID": kindAny,
	} {
		if got := kindOf(name); got != want {
			t.Errorf("kindOf(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestEncode(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		k    kind
		v    driver.Value
		want string
	}{
		{kindInt, nil, "null"},
		{kindInt, int32(-7), "-7"},
		{kindInt, int64(1) << 60, `"1152921504606846976"`},
		{kindInt, []byte(" 42"), "42"},
		{kindNumeric, []byte("12345678901234567890123.456789012"), `"12345678901234567890123.456789012"`},
		{kindNumeric, 1.25, `"1.25"`}, // drivers that fetch DECIMAL as a double
		{kindNumeric, "-1E+3", `"-1E+3"`},
		{kindReal, 0.1, "0.1"},
		{kindDouble, 0.1, "0.1"},
		{kindBool, true, "true"},
		{kindBool, int32(0), "false"},
		{kindBool, []byte("1"), "true"},
		{kindText, []byte("héllo  "), `"héllo  "`},
		{kindText, "<x/>", `"\u003cx/\u003e"`},
		{kindBytes, []byte{0, 255}, `"AP8="`},
		{kindDate, time.Date(2024, 1, 2, 0, 0, 0, 0, paris), `"2024-01-02"`},
		{kindTime, time.Date(0, 0, 0, 13, 4, 5, 0, paris), `"13:04:05"`},
		// The wall clock is the stored value, whatever zone the driver says.
		{kindTimestamp, time.Date(2024, 1, 2, 3, 4, 5, 123456000, paris), `"2024-01-02T03:04:05.123456Z"`},
		{kindAny, int64(3), "3"},
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
