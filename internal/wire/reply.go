package wire

import (
	"bytes"

	"github.com/dqmhq/dqm/internal/jsonw"
)

// A worker's reply passes through the client to REST as bytes: these take
// it apart without decoding it.

// SplitReply takes a worker's reply data apart without decoding it: the
// REST body (the same bytes with the trailing "status" removed, which the
// single body does not carry) and the status beside it. It writes into
// data. ok is false when data does not end with a status field as
// AppendJSON writes it.
func SplitReply(data []byte) (body []byte, status int, ok bool) {
	const field = `,"status":`
	i := bytes.LastIndex(data, []byte(field))
	if i < 0 || len(data) < i+len(field)+2 || data[len(data)-1] != '}' {
		return nil, 0, false
	}
	for _, c := range data[i+len(field) : len(data)-1] {
		if c < '0' || c > '9' || status > 999 {
			return nil, 0, false
		}
		status = status*10 + int(c-'0')
	}
	data[i] = '}'
	return data[:i+1], status, true
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
