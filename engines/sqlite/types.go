package sqlite

import (
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/engines"
)

// kind is the JSON form a column's declared type asks for; SQLite values
// carry only a storage class, so the declaration refines it.
type kind int

const (
	kindAny kind = iota
	kindBool
	kindDate
	kindTimestamp
	kindNumeric
	kindJSON
	kindFloat
)

func kindOf(declared string) kind {
	d := strings.ToUpper(declared)
	switch {
	case d == "BOOLEAN" || d == "BOOL":
		return kindBool
	case d == "DATE":
		return kindDate
	case d == "DATETIME" || strings.HasPrefix(d, "TIMESTAMP"):
		return kindTimestamp
	case strings.HasPrefix(d, "NUMERIC") || strings.HasPrefix(d, "DECIMAL"):
		return kindNumeric
	case d == "JSON" || d == "JSONB":
		return kindJSON
	case d == "REAL" || d == "FLOAT" || d == "DOUBLE" || d == "DOUBLE PRECISION":
		return kindFloat
	}
	return kindAny
}

// encode writes one scanned value; the driver gives int64, float64,
// string, []byte, time.Time (for DATE/DATETIME/TIMESTAMP declarations) or nil.
func encode(w *engines.RowWriter, k kind, v any) {
	switch v := v.(type) {
	case nil:
		w.Null()
	case int64:
		switch k {
		case kindBool:
			w.Bool(v != 0)
		case kindNumeric:
			w.Numeric(strconv.FormatInt(v, 10))
		case kindFloat:
			w.Float(float64(v), 64)
		default:
			w.Int(v)
		}
	case float64:
		if k == kindNumeric {
			w.Numeric(strconv.FormatFloat(v, 'f', -1, 64))
			return
		}
		w.Float(v, 64)
	case string:
		switch k {
		case kindJSON:
			w.JSON([]byte(v))
		case kindDate, kindTimestamp:
			if t, ok := parseTime(v); ok {
				writeTime(w, k, t)
				return
			}
			w.String(v)
		default:
			w.String(v)
		}
	case []byte:
		if k == kindJSON {
			w.JSON(v)
			return
		}
		w.Bytes(v)
	case time.Time:
		writeTime(w, k, v)
	case bool:
		w.Bool(v)
	default:
		w.String("unsupported value")
	}
}

func writeTime(w *engines.RowWriter, k kind, t time.Time) {
	if k == kindDate {
		w.Date(t)
		return
	}
	w.Timestamp(t)
}

var layouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func parseTime(s string) (time.Time, bool) {
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
