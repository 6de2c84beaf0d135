package db2

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// kind is the JSON form of a DB2 column, from its type name.
type kind uint8

const (
	kindAny kind = iota
	kindInt
	kindNumeric
	kindReal
	kindDouble
	kindBool
	kindText
	kindBytes
	kindDate
	kindTime
	kindTimestamp
)

// kindOf maps a DB2 type name (database/sql's DatabaseTypeName: CLI's
// SQL_DESC_TYPE_NAME) to its JSON form: SMALLINT, INTEGER, BIGINT →
// number; DECIMAL, NUMERIC, DECFLOAT → exact string; REAL → Float(,32);
// DOUBLE, FLOAT → Float(,64); BOOLEAN → true/false; CHAR, VARCHAR, CLOB,
// GRAPHIC, VARGRAPHIC, DBCLOB, XML → string (XML serialized); BLOB,
// BINARY, VARBINARY and CHAR/VARCHAR FOR BIT DATA → base64; DATE, TIME,
// TIMESTAMP → the contract's text forms (TIMESTAMP has no zone in DB2 and
// is taken as UTC).
func kindOf(typeName string) kind {
	t := strings.ToUpper(strings.TrimSpace(typeName))
	if strings.Contains(t, "FOR BIT DATA") {
		return kindBytes
	}
	if i := strings.IndexByte(t, '('); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "SMALLINT", "INTEGER", "INT", "BIGINT":
		return kindInt
	case "DECIMAL", "DEC", "NUMERIC", "NUM", "DECFLOAT":
		return kindNumeric
	case "REAL":
		return kindReal
	case "DOUBLE", "FLOAT", "DOUBLE PRECISION":
		return kindDouble
	case "BOOLEAN":
		return kindBool
	case "CHAR", "CHARACTER", "VARCHAR", "LONG VARCHAR", "CLOB", "GRAPHIC", "VARGRAPHIC",
		"LONG VARGRAPHIC", "DBCLOB", "NCHAR", "NVARCHAR", "NCLOB", "XML":
		return kindText
	case "BLOB", "BINARY", "VARBINARY":
		return kindBytes
	case "DATE":
		return kindDate
	case "TIME":
		return kindTime
	case "TIMESTAMP":
		return kindTimestamp
	}
	return kindAny
}

// encode writes one value as go_ibm_db returns it: int32 (SMALLINT,
// INTEGER), int64, float64 (REAL, DOUBLE, and DECIMAL in driver versions
// that fetch it as a double: exact only to 15–17 digits), bool, []byte
// (CHAR family, DECIMAL as text, binary), string (GRAPHIC family, XML),
// time.Time (DATE, TIME, TIMESTAMP: its wall clock is the stored value,
// whatever zone the driver labels it with) or nil.
func encode(w *engines.RowWriter, k kind, v any) {
	switch v := v.(type) {
	case nil:
		w.Null()
	case int64:
		encodeInt(w, k, v)
	case int32:
		encodeInt(w, k, int64(v))
	case int16:
		encodeInt(w, k, int64(v))
	case float64:
		switch k {
		case kindNumeric:
			w.Numeric(strconv.FormatFloat(v, 'f', -1, 64))
		case kindReal:
			w.Float(v, 32)
		default:
			w.Float(v, 64)
		}
	case float32:
		w.Float(float64(v), 32)
	case bool:
		w.Bool(v)
	case []byte:
		encodeText(w, k, v, string(v))
	case string:
		encodeText(w, k, nil, v)
	case time.Time:
		encodeTime(w, k, v)
	default:
		w.String(fmt.Sprint(v))
	}
}

func encodeInt(w *engines.RowWriter, k kind, n int64) {
	switch k {
	case kindBool:
		w.Bool(n != 0)
	case kindNumeric:
		w.Numeric(strconv.FormatInt(n, 10))
	default:
		w.Int(n)
	}
}

// encodeText writes a value that came as text or bytes; b is set when it
// came as bytes.
func encodeText(w *engines.RowWriter, k kind, b []byte, s string) {
	switch k {
	case kindBytes:
		if b == nil {
			b = []byte(s)
		}
		w.Bytes(b)
	case kindNumeric:
		w.Numeric(strings.TrimSpace(s))
	case kindInt:
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			w.Int(n)
			return
		}
		w.String(s)
	case kindReal:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 32); err == nil {
			w.Float(f, 32)
			return
		}
		w.String(s)
	case kindDouble:
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			w.Float(f, 64)
			return
		}
		w.String(s)
	case kindBool:
		switch strings.TrimSpace(s) {
		case "1", "true", "TRUE":
			w.Bool(true)
		case "0", "false", "FALSE":
			w.Bool(false)
		default:
			w.String(s)
		}
	default:
		w.String(s)
	}
}

func encodeTime(w *engines.RowWriter, k kind, t time.Time) {
	switch k {
	case kindDate:
		w.Date(t)
	case kindTime:
		w.TimeOfDay(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()))
	default:
		// The wall clock is the stored value: relabel it UTC, do not convert.
		w.Timestamp(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC))
	}
}
