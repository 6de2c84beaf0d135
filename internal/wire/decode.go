package wire

import (
	"bytes"
	"encoding/json"

	"github.com/dqmhq/dqm/schemas"
)

// DecodeResult decodes a reply body into r as json.Unmarshal does, without
// reflection for the bodies dqm's workers write (Result.AppendJSON): flat
// keys of Result's exact field names, strings without escapes, integer
// numbers. Anything else (an escape, a null, an unknown or differently
// cased key, a float) is left to json.Unmarshal, so the outcome is the
// same either way. Rows aliases data (as json.RawMessage does not: do not
// reuse data afterwards).
func DecodeResult(data []byte, r *schemas.Result) error {
	if !json.Valid(data) || !decodeResult(data, r) {
		*r = schemas.Result{}
		return json.Unmarshal(data, r)
	}
	return nil
}

// decodeResult parses valid JSON; false: not the simple shape.
func decodeResult(d []byte, r *schemas.Result) bool {
	end, ok := object(d, skipWS(d, 0), func(k []byte, i int) (int, bool) {
		return resultField(d, k, i, r)
	})
	return ok && skipWS(d, end) == len(d)
}

// resultField decodes the value at d[i] of the Result field named k;
// false: not a field of the simple shape.
func resultField(d, k []byte, i int, r *schemas.Result) (int, bool) {
	switch string(k) {
	case "success":
		return boolean(d, i, &r.Success)
	case "cached":
		return boolean(d, i, &r.Cached)
	case "query_ref":
		return integer(d, i, &r.QueryRef)
	case "execution_time_ms":
		return integer(d, i, &r.ExecutionTimeMS)
	case "cache_age_ms":
		return integer(d, i, &r.CacheAgeMS)
	case "row_count":
		return smallInt(d, i, &r.RowCount)
	case "column_count":
		return smallInt(d, i, &r.ColumnCount)
	case "status":
		return smallInt(d, i, &r.Status)
	case "database":
		return plainString(d, i, &r.Database)
	case "description":
		return plainString(d, i, &r.Description)
	case "queue_used":
		return plainString(d, i, &r.QueueUsed)
	case "message":
		return plainString(d, i, &r.Message)
	case "error":
		var s string
		j, ok := plainString(d, i, &s)
		r.Error = schemas.Code(s)
		return j, ok
	case "rows":
		if d[i] == 'n' { // null: Unmarshal keeps RawMessage("null")
			return i, false
		}
		start := i
		j, ok := skipValue(d, i)
		if ok {
			r.Rows = d[start:j:j]
		}
		return j, ok
	case "affected_rows":
		return int64s(d, i, &r.AffectedRows)
	}
	return i, false
}

func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string with no escapes at d[i] into *v.
func plainString(d []byte, i int, v *string) (int, bool) {
	b, j, ok := plainBytes(d, i)
	if ok {
		*v = string(b)
	}
	return j, ok
}

func plainBytes(d []byte, i int) ([]byte, int, bool) {
	if i >= len(d) || d[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(d); j++ {
		switch c := d[j]; {
		case c == '"':
			return d[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x80:
			// escapes and non-ASCII (Unmarshal replaces invalid UTF-8)
			return nil, i, false
		}
	}
	return nil, i, false
}

func boolean(d []byte, i int, v *bool) (int, bool) {
	switch {
	case bytes.HasPrefix(d[i:], []byte("true")):
		*v = true
		return i + 4, true
	case bytes.HasPrefix(d[i:], []byte("false")):
		*v = false
		return i + 5, true
	}
	return i, false
}

func integer(d []byte, i int, v *int64) (int, bool) {
	j := i
	if j < len(d) && d[j] == '-' {
		j++
	}
	for j < len(d) && d[j] >= '0' && d[j] <= '9' {
		j++
	}
	if j < len(d) && (d[j] == '.' || d[j] == 'e' || d[j] == 'E') {
		return i, false
	}
	// At most 18 digits: cannot overflow (longer ones: Unmarshal).
	k := i
	neg := k < j && d[k] == '-'
	if neg {
		k++
	}
	if j == k || j-k > 18 {
		return i, false
	}
	var n int64
	for ; k < j; k++ {
		n = n*10 + int64(d[k]-'0')
	}
	if neg {
		n = -n
	}
	*v = n
	return j, true
}

// smallInt reads an integer that fits an int.
func smallInt(d []byte, i int, v *int) (int, bool) {
	var n int64
	j, ok := integer(d, i, &n)
	if !ok || int64(int(n)) != n {
		return i, false
	}
	*v = int(n)
	return j, true
}

func int64s(d []byte, i int, v *[]int64) (int, bool) {
	if d[i] != '[' {
		return i, false
	}
	out := []int64{}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == ']' {
		*v = out
		return i + 1, true
	}
	for i < len(d) {
		var n int64
		var ok bool
		if i, ok = integer(d, i, &n); !ok {
			return i, false
		}
		out = append(out, n)
		i = skipWS(d, i)
		if i < len(d) && d[i] == ']' {
			*v = out
			return i + 1, true
		}
		if i >= len(d) || d[i] != ',' {
			return i, false
		}
		i = skipWS(d, i+1)
	}
	return i, false
}

// skipValue returns the end of the (valid) JSON value at d[i].
func skipValue(d []byte, i int) (int, bool) {
	depth := 0
	for i < len(d) {
		c := d[i]
		switch c {
		case '"':
			i++
			for i < len(d) && d[i] != '"' {
				if d[i] == '\\' {
					i++
				}
				i++
			}
			i++
		case '{', '[':
			depth++
			i++
		case '}', ']':
			if depth == 0 {
				return i, true
			}
			depth--
			i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i, true
			}
			i++
		default:
			i++
			continue
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return i, i <= len(d)
		}
	}
	return i, depth == 0
}

// DecodeQueryRequest decodes request data into q as json.Unmarshal does,
// without reflection for the usual shape ({"query_ref":N,"params":{group:
// {name: value}}} with plain keys); anything else is left to
// json.Unmarshal.
func DecodeQueryRequest(data []byte, q *schemas.QueryRequest) error {
	if !json.Valid(data) || !decodeQueryRequest(data, q) {
		*q = schemas.QueryRequest{}
		return json.Unmarshal(data, q)
	}
	return nil
}

func decodeQueryRequest(d []byte, q *schemas.QueryRequest) bool {
	end, ok := object(d, skipWS(d, 0), func(k []byte, i int) (int, bool) {
		switch string(k) {
		case "query_ref":
			return integer(d, i, &q.QueryRef)
		case "params":
			return paramsValue(d, i, &q.Params)
		}
		return i, false
	})
	return ok && skipWS(d, end) == len(d)
}

// object walks the object at d[i], calling member with each plain key and
// the offset of its value; member returns the offset after the value.
// It returns the offset after the object.
func object(d []byte, i int, member func(key []byte, i int) (int, bool)) (int, bool) {
	if i >= len(d) || d[i] != '{' {
		return i, false
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1, true
	}
	for {
		k, j, ok := plainBytes(d, i)
		if !ok {
			return i, false
		}
		i = skipWS(d, j)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		i = skipWS(d, i+1)
		if i >= len(d) {
			return i, false
		}
		if i, ok = member(k, i); !ok {
			return i, false
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return i, false
		}
		if d[i] == '}' {
			return i + 1, true
		}
		if d[i] != ',' {
			return i, false
		}
		i = skipWS(d, i+1)
	}
}

// paramsValue decodes the params object at d[i] into *p.
func paramsValue(d []byte, i int, p *schemas.Params) (int, bool) {
	if d[i] != '{' {
		return i, false
	}
	if *p == nil {
		*p = schemas.Params{}
	}
	ps := *p
	return object(d, i, func(g []byte, i int) (int, bool) {
		if d[i] != '{' {
			return i, false
		}
		// A repeated group replaces the first, as in Unmarshal.
		group := map[string]json.RawMessage{}
		ps[string(g)] = group
		return object(d, i, func(n []byte, i int) (int, bool) {
			start := i
			end, ok := skipValue(d, i)
			if ok {
				group[string(n)] = json.RawMessage(d[start:end:end])
			}
			return end, ok
		})
	})
}

// DecodeQueryBody is the reflection-free reading of a REST single-query
// body, {"query_ref":N,"database":"db","params":{...}}, into the fields
// json.Unmarshal would set (nil: absent). ok is false for anything it
// does not read exactly as json.Unmarshal would (invalid JSON, a null, an
// escape, another key): the caller unmarshals then.
func DecodeQueryBody(data []byte) (ref *int64, db *string, p schemas.Params, ok bool) {
	if !json.Valid(data) {
		return nil, nil, nil, false
	}
	end, ok := object(data, skipWS(data, 0), func(k []byte, i int) (int, bool) {
		switch string(k) {
		case "query_ref":
			var n int64
			j, ok := integer(data, i, &n)
			ref = &n
			return j, ok
		case "database":
			var s string
			j, ok := plainString(data, i, &s)
			db = &s
			return j, ok
		case "params":
			return paramsValue(data, i, &p)
		}
		return i, false
	})
	if !ok || skipWS(data, end) != len(data) {
		return nil, nil, nil, false
	}
	return ref, db, p, true
}
