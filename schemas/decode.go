package schemas

import "encoding/json"

// DecodeResult decodes a reply body into r as json.Unmarshal does, without
// reflection for the bodies dqm's workers write (Result.AppendJSON): flat
// keys of Result's exact field names, strings without escapes, integer
// numbers. Anything else (an escape, a null, an unknown or differently
// cased key, a float) is left to json.Unmarshal, so the outcome is the
// same either way. Rows aliases data (as json.RawMessage does not: do not
// reuse data afterwards).
func DecodeResult(data []byte, r *Result) error {
	if !json.Valid(data) || !decodeResult(data, r) {
		*r = Result{}
		return json.Unmarshal(data, r)
	}
	return nil
}

// decodeResult parses valid JSON; false: not the simple shape.
func decodeResult(d []byte, r *Result) bool {
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return false
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == '}' {
		return true
	}
	for {
		k, j, ok := plainBytes(d, i)
		if !ok {
			return false
		}
		i = skipWS(d, j)
		if i >= len(d) || d[i] != ':' {
			return false
		}
		i = skipWS(d, i+1)
		if i >= len(d) {
			return false
		}
		switch key := string(k); key {
		case "success":
			i, ok = boolean(d, i, &r.Success)
		case "cached":
			i, ok = boolean(d, i, &r.Cached)
		case "query_ref":
			i, ok = integer(d, i, &r.QueryRef)
		case "execution_time_ms":
			i, ok = integer(d, i, &r.ExecutionTimeMS)
		case "cache_age_ms":
			i, ok = integer(d, i, &r.CacheAgeMS)
		case "row_count", "column_count", "status":
			var n int64
			i, ok = integer(d, i, &n)
			if ok && int64(int(n)) != n {
				return false
			}
			switch key {
			case "row_count":
				r.RowCount = int(n)
			case "column_count":
				r.ColumnCount = int(n)
			default:
				r.Status = int(n)
			}
		case "database", "description", "queue_used", "message", "error":
			var s string
			s, i, ok = plainString(d, i)
			switch key {
			case "database":
				r.Database = s
			case "description":
				r.Description = s
			case "queue_used":
				r.QueueUsed = s
			case "message":
				r.Message = s
			default:
				r.Error = Code(s)
			}
		case "rows":
			if d[i] == 'n' { // null: Unmarshal keeps RawMessage("null")
				return false
			}
			start := i
			if i, ok = skipValue(d, i); ok {
				r.Rows = d[start:i:i]
			}
		case "affected_rows":
			i, ok = int64s(d, i, &r.AffectedRows)
		default:
			return false
		}
		if !ok {
			return false
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return false
		}
		if d[i] == '}' {
			return skipWS(d, i+1) == len(d)
		}
		if d[i] != ',' {
			return false
		}
		i = skipWS(d, i+1)
	}
}

func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string with no escapes at d[i].
func plainString(d []byte, i int) (string, int, bool) {
	b, j, ok := plainBytes(d, i)
	return string(b), j, ok
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
	switch d[i] {
	case 't':
		*v = true
		return i + 4, true
	case 'f':
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
func DecodeQueryRequest(data []byte, q *QueryRequest) error {
	if !json.Valid(data) || !decodeQueryRequest(data, q) {
		*q = QueryRequest{}
		return json.Unmarshal(data, q)
	}
	return nil
}

func decodeQueryRequest(d []byte, q *QueryRequest) bool {
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
func paramsValue(d []byte, i int, p *Params) (int, bool) {
	if d[i] != '{' {
		return i, false
	}
	if *p == nil {
		*p = Params{}
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
func DecodeQueryBody(data []byte) (ref *int64, db *string, p Params, ok bool) {
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
			s, j, ok := plainString(data, i)
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
