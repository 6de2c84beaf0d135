package postgres

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dqmhq/dqm/engines"
)

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// TestEncodeValue covers the binary forms the server tests cannot easily
// produce: jsonb's binary form, and malformed values.
func TestEncodeValue(t *testing.T) {
	for _, tc := range []struct {
		name string
		oid  uint32
		fmt  int16
		in   []byte
		want string // "" means an error
	}{
		{"jsonb binary", pgtype.JSONBOID, pgx.BinaryFormatCode, append([]byte{1}, `{"a": 1}`...), `{"a": 1}`},
		{"jsonb unknown version", pgtype.JSONBOID, pgx.BinaryFormatCode, append([]byte{2}, `{}`...), ""},
		{"jsonb empty", pgtype.JSONBOID, pgx.BinaryFormatCode, []byte{}, ""},
		{"json binary", pgtype.JSONOID, pgx.BinaryFormatCode, []byte(`[1]`), `[1]`},
		{"jsonb text", pgtype.JSONBOID, pgx.TextFormatCode, []byte(`{"a": 1}`), `{"a": 1}`},
		{"invalid json text", pgtype.JSONOID, pgx.TextFormatCode, []byte(`{`), `"{"`},
		{"int8 min", pgtype.Int8OID, pgx.BinaryFormatCode, be64(1 << 63), `"-9223372036854775808"`},
		{"int4 short", pgtype.Int4OID, pgx.BinaryFormatCode, []byte{0, 1}, ""},
		{"float4", pgtype.Float4OID, pgx.BinaryFormatCode, be32(math.Float32bits(0.1)), `0.1`},
		{"date before 2000", pgtype.DateOID, pgx.BinaryFormatCode, be32(uint32(0xffffffff)), `"1999-12-31"`},
		{"timestamp before 2000", pgtype.TimestampOID, pgx.BinaryFormatCode, be64(uint64(0xffffffffffffffff)), `"1999-12-31T23:59:59.999999Z"`},
		{"timestamp max", pgtype.TimestampOID, pgx.BinaryFormatCode, be64(9223371331200000000 - 1), `"294276-12-31T23:59:59.999999Z"`},
		{"uuid text", pgtype.UUIDOID, pgx.TextFormatCode, []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"unknown binary", 999999, pgx.BinaryFormatCode, []byte{1, 2}, `"AQI="`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, _ := engines.NewRowWriter([]string{"v"})
			w.BeginRow()
			err := encodeValue(w, kindOf(pgconn.FieldDescription{DataTypeOID: tc.oid, Format: tc.fmt}), tc.in)
			if tc.want == "" {
				if err == nil {
					t.Fatal("no error for a malformed value")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w.EndRow()
			if got, want := string(w.Finish()), `[{"v":`+tc.want+`}]`; got != want {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}
