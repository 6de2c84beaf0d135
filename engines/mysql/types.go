package mysql

import (
	"database/sql/driver"
	"math"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/dqmhq/dqm/engines"
)

// kind is the JSON form of a column, chosen once per result set from the
// driver's type name (and display width, for TINYINT(1) and BIT(1)).
//
// The mapping: integer types → numbers (UNSIGNED BIGINT via Uint), DECIMAL
// → exact string, FLOAT → Float(,32), DOUBLE → Float(,64), TINYINT(1) and
// BIT(1) → true/false (BOOL is TINYINT(1); a TINYINT(1) holding 2 reads as
// true), wider BIT → number, DATE → "YYYY-MM-DD", TIME → "HH:MM:SS" (may
// exceed 24 h or be negative: MySQL TIME is an interval), DATETIME and
// TIMESTAMP → RFC 3339 UTC, zero dates ('0000-00-00') → null, text, ENUM
// and SET → string, BLOB/BINARY/VARBINARY/GEOMETRY → base64, MySQL's JSON
// → embedded JSON.
//
// MariaDB has no JSON type on the wire: its JSON is LONGTEXT COLLATE
// utf8mb4_bin with a json_valid CHECK, and the driver does not ask for the
// extended metadata that would say "json". So on MariaDB a LONGTEXT column
// with a binary collation is taken for JSON and embedded (a value that is
// not valid JSON stays a string); JSON built by functions (JSON_OBJECT)
// carries no such mark and arrives as a string. MySQL has no boolean
// expressions: SELECT TRUE and 1 = 1 are integers; only columns typed
// BOOL/TINYINT(1) become booleans.
type kind uint8

const (
	kindText kind = iota
	kindInt
	kindUint
	kindBool
	kindBit
	kindDecimal
	kindFloat32
	kindFloat64
	kindDate
	kindTimestamp
	kindTime
	kindBytes
	kindJSON
	kindNull
)

// longText is the width of a LONGTEXT/LONGBLOB column.
const longText = math.MaxUint32

// kindOf maps the driver's DatabaseTypeName (UNSIGNED prefixed for
// unsigned integers), the display width and the protocol flags (both 0
// when unknown) to a column's JSON form.
func kindOf(typeName string, width uint32, flags uint16, mariadb bool) kind {
	switch typeName {
	case "TEXT", "LONGTEXT":
		if mariadb && width == longText && flags&flagBinary != 0 {
			return kindJSON
		}
		return kindText
	case "TINYINT", "UNSIGNED TINYINT":
		if width == 1 {
			return kindBool
		}
		return kindInt
	case "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR",
		"UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		return kindInt
	case "UNSIGNED BIGINT":
		return kindUint
	case "BIT":
		if width == 1 {
			return kindBool
		}
		return kindBit
	case "DECIMAL":
		return kindDecimal
	case "FLOAT":
		return kindFloat32
	case "DOUBLE":
		return kindFloat64
	case "DATE":
		return kindDate
	case "DATETIME", "TIMESTAMP":
		return kindTimestamp
	case "TIME":
		return kindTime
	case "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "GEOMETRY", "VECTOR":
		return kindBytes
	case "JSON":
		return kindJSON
	case "NULL":
		return kindNull
	}
	return kindText // CHAR, VARCHAR, *TEXT, ENUM, SET and anything new
}

// encode writes one value as the driver's binary protocol delivers it:
// int64 for integers (and BIT(1)'s []byte), []byte digits for an UNSIGNED
// BIGINT above MaxInt64, DECIMAL, TIME and all strings, float32/float64,
// time.Time for dates, or nil.
func encode(w *engines.RowWriter, k kind, v driver.Value) {
	switch v := v.(type) {
	case nil:
		w.Null()
	case int64:
		switch k {
		case kindBool:
			w.Bool(v != 0)
		case kindUint:
			w.Uint(uint64(v))
		default:
			w.Int(v)
		}
	case []byte:
		encodeBytes(w, k, v)
	case float64:
		w.Float(v, 64)
	case float32:
		w.Float(float64(v), 32)
	case time.Time:
		switch {
		case v.IsZero():
			// '0000-00-00' (and '0000-00-00 00:00:00'): not a date.
			w.Null()
		case k == kindDate:
			w.Date(v)
		default:
			w.Timestamp(v)
		}
	case string:
		w.String(v)
	case uint64:
		w.Uint(v)
	case bool:
		w.Bool(v)
	default:
		w.String("unsupported value")
	}
}

func encodeBytes(w *engines.RowWriter, k kind, b []byte) {
	switch k {
	case kindBytes:
		w.Bytes(b)
	case kindJSON:
		w.JSON(b)
	case kindDecimal:
		w.Numeric(text(b))
	case kindUint:
		if n, err := strconv.ParseUint(text(b), 10, 64); err == nil {
			w.Uint(n)
			return
		}
		w.String(text(b))
	case kindBool:
		w.Bool(bitValue(b) != 0)
	case kindBit:
		w.Uint(bitValue(b))
	case kindTime:
		if d, ok := parseTime(b); ok {
			w.TimeOfDay(d)
			return
		}
		w.String(text(b))
	default:
		w.String(text(b))
	}
}

// text views b as a string without copying. Safe here: the RowWriter
// copies it into its buffer at once and keeps no reference, and b (the
// driver's read buffer) is not touched until the next row is read.
func text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// bitValue reads a BIT(n) value: big-endian, at most 8 bytes.
func bitValue(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

// parseTime reads the driver's TIME text, [-]H+:MM:SS[.ffffff].
func parseTime(b []byte) (time.Duration, bool) {
	s := text(b)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	h, rest, ok1 := strings.Cut(s, ":")
	m, sec, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return 0, false
	}
	sec, frac, _ := strings.Cut(sec, ".")
	hh, err1 := strconv.ParseUint(h, 10, 32)
	mm, err2 := strconv.ParseUint(m, 10, 8)
	ss, err3 := strconv.ParseUint(sec, 10, 8)
	if err1 != nil || err2 != nil || err3 != nil || mm > 59 || ss > 59 || len(frac) > 9 {
		return 0, false
	}
	d := time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute + time.Duration(ss)*time.Second
	if frac != "" {
		f, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return 0, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		d += time.Duration(f)
	}
	if neg {
		d = -d
	}
	return d, true
}
