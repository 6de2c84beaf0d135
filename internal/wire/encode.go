package wire

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/dqmhq/dqm/schemas"
)

// AppendQueryRequest appends the JSON of QueryRequest{ref, p} to b,
// byte for byte what json.Marshal writes (keys sorted, values compact),
// without reflection when p's keys are plain and its values compact
// ASCII JSON; otherwise it is json.Marshal's, error included.
func AppendQueryRequest(b []byte, ref int64, p schemas.Params) ([]byte, error) {
	start := len(b)
	b = append(b, `{"query_ref":`...)
	b = strconv.AppendInt(b, ref, 10)
	if len(p) > 0 {
		b = append(b, `,"params":{`...)
		var ok bool
		if b, ok = appendParams(b, p); !ok {
			data, err := json.Marshal(schemas.QueryRequest{QueryRef: ref, Params: p})
			return append(b[:start], data...), err
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

// AppendQueryRequestParams appends the data of a request whose params
// are already JSON (params.AppendCanonical's, validated), without
// re-encoding them.
func AppendQueryRequestParams(b []byte, ref int64, params []byte) []byte {
	b = append(b, `{"query_ref":`...)
	b = strconv.AppendInt(b, ref, 10)
	if len(params) > 2 { // not {}
		b = append(b, `,"params":`...)
		b = append(b, params...)
	}
	return append(b, '}')
}

func appendParams(b []byte, p schemas.Params) ([]byte, bool) {
	var buf [8]string
	groups := sortedKeys(buf[:0], p)
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		byName := p[g]
		if !plainKey(g) || byName == nil {
			return b, false
		}
		b = append(b, '"')
		b = append(b, g...)
		b = append(b, `":{`...)
		var nbuf [8]string
		for j, n := range sortedKeys(nbuf[:0], byName) {
			v := byName[n]
			if !plainKey(n) || !plainValue(v) {
				return b, false
			}
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, n...)
			b = append(b, `":`...)
			b = append(b, v...)
		}
		b = append(b, '}')
	}
	return b, true
}

func sortedKeys[V any](buf []string, m map[string]V) []string {
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}

// plainKey: json.Marshal writes it between quotes as it is.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// plainValue: valid JSON that json.Marshal's compaction (whitespace
// removed, <, >, &, U+2028 and U+2029 escaped) leaves as it is.
func plainValue(v json.RawMessage) bool {
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '<' || c == '>' || c == '&' || c >= 0x80:
			return false
		}
	}
	return json.Valid(v)
}
