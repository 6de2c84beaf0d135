package engines

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dqmhq/dqm/internal/jsonw"
	"github.com/dqmhq/dqm/schemas"
)

// RowWriter builds the rows array of a reply and fixes dqm's one JSON type
// mapping (README, "Types"): every engine scans its values and hands them to
// the method named for the JSON form they take. Values are appended straight
// into one buffer: no per-row maps, no reflection.
type RowWriter struct {
	buf  []byte
	keys [][]byte // `"name":` per column, pre-encoded
	col  int
	rows int
}

// NewRowWriter starts a rows array for the given columns. Duplicate column
// names are an error naming them: a JSON object cannot hold both.
func NewRowWriter(columns []string) (*RowWriter, error) {
	seen := make(map[string]bool, len(columns))
	var dups []string
	keys := make([][]byte, len(columns))
	for i, c := range columns {
		if seen[c] && !slices.Contains(dups, c) {
			dups = append(dups, c)
		}
		seen[c] = true
		k := jsonw.String(nil, c)
		keys[i] = append(k, ':')
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		return nil, &DatabaseError{Code: schemas.CodeDatabaseError,
			Message: "duplicate column names in result: " + strings.Join(dups, ", ") + " (alias them)"}
	}
	return &RowWriter{buf: append(make([]byte, 0, 256), '['), keys: keys}, nil
}

// BeginRow starts the next row.
func (w *RowWriter) BeginRow() {
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '{')
	w.col = 0
}

// EndRow closes the row.
func (w *RowWriter) EndRow() {
	w.buf = append(w.buf, '}')
	w.rows++
}

func (w *RowWriter) key() {
	if w.col > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, w.keys[w.col]...)
	w.col++
}

// Rows returns the number of complete rows written.
func (w *RowWriter) Rows() int { return w.rows }

// Finish closes the array and returns it.
func (w *RowWriter) Finish() []byte { return append(w.buf, ']') }

// Null writes null.
func (w *RowWriter) Null() { w.key(); w.buf = append(w.buf, "null"...) }

// maxSafeInt is 2^53: integers beyond it lose precision in JavaScript
// numbers, so they are written as strings.
const maxSafeInt = 1 << 53

// Int writes an integer: a number within ±2^53, else a string of its digits.
func (w *RowWriter) Int(n int64) {
	w.key()
	if n > maxSafeInt || n < -maxSafeInt {
		w.buf = append(w.buf, '"')
		w.buf = strconv.AppendInt(w.buf, n, 10)
		w.buf = append(w.buf, '"')
		return
	}
	w.buf = strconv.AppendInt(w.buf, n, 10)
}

// Uint writes an unsigned integer with the same rule as Int.
func (w *RowWriter) Uint(n uint64) {
	w.key()
	if n > maxSafeInt {
		w.buf = append(w.buf, '"')
		w.buf = strconv.AppendUint(w.buf, n, 10)
		w.buf = append(w.buf, '"')
		return
	}
	w.buf = strconv.AppendUint(w.buf, n, 10)
}

// Float writes a float of the given bit size (32 or 64) as a number in its
// shortest form; NaN and infinities, which JSON lacks, become the strings
// "NaN", "Infinity" and "-Infinity".
func (w *RowWriter) Float(f float64, bits int) {
	w.key()
	switch {
	case math.IsNaN(f):
		w.buf = append(w.buf, `"NaN"`...)
		return
	case math.IsInf(f, 1):
		w.buf = append(w.buf, `"Infinity"`...)
		return
	case math.IsInf(f, -1):
		w.buf = append(w.buf, `"-Infinity"`...)
		return
	}
	// The same format choice as encoding/json, so numbers read identically.
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	w.buf = strconv.AppendFloat(w.buf, f, format, -1, bits)
	if format == 'e' {
		// Like encoding/json, 1e-07 is written 1e-7.
		if n := len(w.buf); n >= 4 && w.buf[n-4] == 'e' && w.buf[n-3] == '-' && w.buf[n-2] == '0' {
			w.buf[n-2] = w.buf[n-1]
			w.buf = w.buf[:n-1]
		}
	}
}

// Bool writes true or false.
func (w *RowWriter) Bool(v bool) { w.key(); w.buf = jsonw.Bool(w.buf, v) }

// String writes text.
func (w *RowWriter) String(s string) { w.key(); w.buf = jsonw.String(w.buf, s) }

// Numeric writes an exact decimal (NUMERIC, DECIMAL) as a string of its
// digits, so no precision is lost to floating point.
func (w *RowWriter) Numeric(digits string) { w.String(digits) }

// Bytes writes binary data as standard base64.
func (w *RowWriter) Bytes(b []byte) {
	w.key()
	w.buf = append(w.buf, '"')
	w.buf = base64.StdEncoding.AppendEncode(w.buf, b)
	w.buf = append(w.buf, '"')
}

// JSON writes a JSON column's value embedded as JSON. Invalid JSON is
// written as a string rather than corrupting the reply.
func (w *RowWriter) JSON(raw []byte) {
	if !json.Valid(raw) {
		w.String(string(raw))
		return
	}
	w.key()
	w.buf = append(w.buf, raw...)
}

// Date writes YYYY-MM-DD.
func (w *RowWriter) Date(t time.Time) {
	w.key()
	w.buf = append(w.buf, '"')
	w.buf = t.AppendFormat(w.buf, time.DateOnly)
	w.buf = append(w.buf, '"')
}

// TimeOfDay writes HH:MM:SS, with fractional seconds only when present.
func (w *RowWriter) TimeOfDay(d time.Duration) {
	w.key()
	neg := d < 0
	if neg {
		d = -d
	}
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	us := int64(d % time.Second / time.Microsecond)
	w.buf = append(w.buf, '"')
	if neg {
		w.buf = append(w.buf, '-')
	}
	w.buf = pad2(w.buf, h)
	w.buf = append(w.buf, ':')
	w.buf = pad2(w.buf, m)
	w.buf = append(w.buf, ':')
	w.buf = pad2(w.buf, s)
	if us != 0 {
		frac := fmt.Sprintf("%06d", us)
		w.buf = append(w.buf, '.')
		w.buf = append(w.buf, strings.TrimRight(frac, "0")...)
	}
	w.buf = append(w.buf, '"')
}

func pad2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

// Timestamp writes RFC 3339 in UTC with fractional seconds only when
// present. Zoneless DATETIME/TIMESTAMP values are taken as UTC, so every
// engine writes the same text for the same stored value.
func (w *RowWriter) Timestamp(t time.Time) {
	w.key()
	w.buf = append(w.buf, '"')
	w.buf = t.UTC().AppendFormat(w.buf, time.RFC3339Nano)
	w.buf = append(w.buf, '"')
}
