package postgres

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dqmhq/dqm/engines"
)

// resultFormats asks the server for the binary form of every type decoded
// natively here, and for the text form (the map's zero value) of all other
// types: text, varchar, char, name, uuid, json, jsonb and unknown types
// (citext, enums, domains) read as text, and so do interval, timetz,
// arrays, ranges, geometry and network types, whose PostgreSQL text form
// is what the client gets as a JSON string.
var resultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID:        pgx.BinaryFormatCode,
	pgtype.Int2OID:        pgx.BinaryFormatCode,
	pgtype.Int4OID:        pgx.BinaryFormatCode,
	pgtype.Int8OID:        pgx.BinaryFormatCode,
	pgtype.OIDOID:         pgx.BinaryFormatCode,
	pgtype.Float4OID:      pgx.BinaryFormatCode,
	pgtype.Float8OID:      pgx.BinaryFormatCode,
	pgtype.NumericOID:     pgx.BinaryFormatCode,
	pgtype.ByteaOID:       pgx.BinaryFormatCode,
	pgtype.DateOID:        pgx.BinaryFormatCode,
	pgtype.TimeOID:        pgx.BinaryFormatCode,
	pgtype.TimestampOID:   pgx.BinaryFormatCode,
	pgtype.TimestamptzOID: pgx.BinaryFormatCode,
}

// kind is how a column's wire values become JSON, fixed once per result
// from its type OID and format so rows are decoded without lookups.
type kind uint8

const (
	kindText  kind = iota // any text-format value: a JSON string
	kindJSON              // json, jsonb in text format: embedded
	kindJSONB             // jsonb in binary format: a version byte, then text
	kindBool
	kindInt2
	kindInt4
	kindInt8
	kindOID
	kindFloat4
	kindFloat8
	kindNumeric
	kindBytes
	kindDate
	kindTime
	kindTimestamp // timestamp and timestamptz: both microseconds, UTC
)

func kindOf(fd pgconn.FieldDescription) kind {
	if fd.Format == pgx.TextFormatCode {
		switch fd.DataTypeOID {
		case pgtype.JSONOID, pgtype.JSONBOID:
			return kindJSON
		}
		return kindText
	}
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		return kindBool
	case pgtype.Int2OID:
		return kindInt2
	case pgtype.Int4OID:
		return kindInt4
	case pgtype.Int8OID:
		return kindInt8
	case pgtype.OIDOID:
		return kindOID
	case pgtype.Float4OID:
		return kindFloat4
	case pgtype.Float8OID:
		return kindFloat8
	case pgtype.NumericOID:
		return kindNumeric
	case pgtype.DateOID:
		return kindDate
	case pgtype.TimeOID:
		return kindTime
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		return kindTimestamp
	case pgtype.JSONOID:
		return kindJSON // json's binary form is its text
	case pgtype.JSONBOID:
		return kindJSONB
	}
	// bytea, and any other binary value: its bytes are all there is.
	return kindBytes
}

// encodeRows writes the statement's columns and rows into res.
func encodeRows(rows pgx.Rows, res *engines.Result) error {
	fds := rows.FieldDescriptions()
	names := make([]string, len(fds))
	kinds := make([]kind, len(fds))
	for i, fd := range fds {
		names[i], kinds[i] = fd.Name, kindOf(fd)
	}
	w, err := engines.NewRowWriter(names)
	if err != nil {
		return err
	}
	for rows.Next() {
		w.BeginRow()
		for i, v := range rows.RawValues() {
			if err := encodeValue(w, kinds[i], v); err != nil {
				return fmt.Errorf("column %q: %w", names[i], err)
			}
		}
		w.EndRow()
	}
	if err := rows.Err(); err != nil {
		return err
	}
	res.Columns, res.Rows, res.RowCount = names, w.Finish(), w.Rows()
	return nil
}

// The PostgreSQL epoch, 2000-01-01, in Unix seconds, and the sentinels its
// binary dates and timestamps use for ±infinity.
const (
	pgEpochUnix   = 946684800
	secondsPerDay = 86400
)

func encodeValue(w *engines.RowWriter, k kind, v []byte) error {
	if v == nil {
		w.Null()
		return nil
	}
	if n := fixedSize[k]; n != 0 && len(v) != n {
		return fmt.Errorf("%d bytes for a %d-byte binary value", len(v), n)
	}
	switch k {
	case kindText:
		w.String(string(v))
	case kindJSON:
		w.JSON(v)
	case kindJSONB:
		if len(v) == 0 || v[0] != 1 {
			return fmt.Errorf("unknown jsonb format version")
		}
		w.JSON(v[1:])
	case kindBool:
		w.Bool(v[0] != 0)
	case kindInt2:
		w.Int(int64(int16(binary.BigEndian.Uint16(v))))
	case kindInt4:
		w.Int(int64(int32(binary.BigEndian.Uint32(v))))
	case kindInt8:
		w.Int(int64(binary.BigEndian.Uint64(v)))
	case kindOID:
		w.Uint(uint64(binary.BigEndian.Uint32(v)))
	case kindFloat4:
		w.Float(float64(math.Float32frombits(binary.BigEndian.Uint32(v))), 32)
	case kindFloat8:
		w.Float(math.Float64frombits(binary.BigEndian.Uint64(v)), 64)
	case kindNumeric:
		s, err := numericText(v)
		if err != nil {
			return err
		}
		w.Numeric(s)
	case kindBytes:
		w.Bytes(v)
	case kindDate:
		switch days := int32(binary.BigEndian.Uint32(v)); days {
		case math.MaxInt32:
			w.String("infinity")
		case math.MinInt32:
			w.String("-infinity")
		default:
			w.Date(time.Unix(pgEpochUnix+int64(days)*secondsPerDay, 0).UTC())
		}
	case kindTime:
		w.TimeOfDay(time.Duration(binary.BigEndian.Uint64(v)) * time.Microsecond)
	case kindTimestamp:
		switch us := int64(binary.BigEndian.Uint64(v)); us {
		case math.MaxInt64:
			w.String("infinity")
		case math.MinInt64:
			w.String("-infinity")
		default:
			// Seconds and microseconds apart: PostgreSQL's range overflows
			// int64 nanoseconds.
			sec, frac := us/1e6, us%1e6
			if frac < 0 {
				sec, frac = sec-1, frac+1e6
			}
			w.Timestamp(time.Unix(pgEpochUnix+sec, frac*1e3))
		}
	}
	return nil
}

// fixedSize is the binary length of the fixed-size kinds (0: variable).
var fixedSize = [...]int{
	kindBool:      1,
	kindInt2:      2,
	kindInt4:      4,
	kindInt8:      8,
	kindOID:       4,
	kindFloat4:    4,
	kindFloat8:    8,
	kindDate:      4,
	kindTime:      8,
	kindTimestamp: 8,
}
