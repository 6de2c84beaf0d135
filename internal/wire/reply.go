package wire

import (
	"bytes"

	"github.com/dqmhq/dqm/internal/jsonw"
	"github.com/dqmhq/dqm/schemas"
)

// A worker's reply passes through the client to REST as bytes: these take
// it apart without reading its rows.

// rowsEnd is how Result.AppendJSON closes the rows of a success body.
var rowsEnd = []byte(`],"row_count":`)

// ReadReply reads a worker's reply as the REST adapter passes it
// through: into r every field but the rows, which it slices out of data
// without reading them (r.Rows aliases data and is not checked), and
// body, the REST body (SplitReply's: data is written into). The rows end
// where the last `],"row_count":` of data starts: a row may hold that
// text, but the result's own fields follow the rows and their strings
// cannot hold an unescaped quote. ok is false, and data unchanged, for
// anything else than Result.AppendJSON's shape with plain strings
// (DecodeResult reads that).
func ReadReply(data []byte, r *schemas.Result) (body []byte, ok bool) {
	end, ok := object(data, skipWS(data, 0), func(k []byte, i int) (int, bool) {
		if string(k) != "rows" {
			return resultField(data, k, i, r)
		}
		t := bytes.LastIndex(data, rowsEnd)
		if data[i] != '[' || t <= i {
			return i, false
		}
		r.Rows = data[i : t+1 : t+1]
		return t + 1, true
	})
	if !ok || end != len(data) {
		return nil, false
	}
	i, status, ok := statusAt(data)
	if !ok || status != r.Status {
		return nil, false
	}
	data[i] = '}'
	return data[:i+1], true
}

// SplitReply takes a worker's reply data apart without decoding it: the
// REST body (the same bytes with the trailing "status" removed, which the
// single body does not carry) and the status beside it. It writes into
// data. ok is false when data does not end with a status field as
// AppendJSON writes it.
func SplitReply(data []byte) (body []byte, status int, ok bool) {
	i, status, ok := statusAt(data)
	if !ok {
		return nil, 0, false
	}
	data[i] = '}'
	return data[:i+1], status, true
}

// statusAt finds the status field that ends data: its offset and value.
func statusAt(data []byte) (i, status int, ok bool) {
	const field = `,"status":`
	i = bytes.LastIndex(data, []byte(field))
	if i < 0 || len(data) < i+len(field)+2 || data[len(data)-1] != '}' {
		return 0, 0, false
	}
	for _, c := range data[i+len(field) : len(data)-1] {
		if c < '0' || c > '9' || status > 999 {
			return 0, 0, false
		}
		status = status*10 + int(c-'0')
	}
	return i, status, true
}

// cachedFalse is how AppendJSON writes a result that is not from a cache.
var cachedFalse = []byte(`,"cached":false`)

// AppendCachedBody appends body, a success body as AppendJSON writes it
// with Cached false, as a cache hit of age ageMS: "cached":true and
// "cache_age_ms" in their place, the rest byte for byte. ok is false when
// body has no such field (b is then unchanged).
func AppendCachedBody(b, body []byte, ageMS int64) ([]byte, bool) {
	// The last match is the top-level field: in rows a key can be
	// "cached" too, but only the result's own fields follow the rows,
	// and a string value cannot hold an unescaped quote.
	i := bytes.LastIndex(body, cachedFalse)
	if i < 0 {
		return b, false
	}
	b = append(b, body[:i]...)
	b = append(b, `,"cached":true,"cache_age_ms":`...)
	b = jsonw.Int(b, ageMS)
	return append(b, body[i+len(cachedFalse):]...), true
}
