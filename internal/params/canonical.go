package params

import (
	"math"
	"slices"
	"strconv"

	"github.com/dqmhq/dqm/internal/jsonw"
)

// AppendCanonical appends the canonical wire form of params that Decode
// accepted: raw's groups and each group's names in sorted order, every
// value written from vals (its decoded, canonical form), so the same
// params written differently are the same bytes. The result is itself a
// valid params object that decodes to vals again: the REST adapter uses it
// both as the cache key and as the params it publishes, validating once.
func AppendCanonical(b []byte, raw Raw, vals Values) []byte {
	var gbuf, nbuf [8]string
	groups := gbuf[:0]
	for g := range raw {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	b = append(b, '{')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.String(b, g)
		b = append(b, ":{"...)
		names := nbuf[:0]
		for n := range raw[g] {
			names = append(names, n)
		}
		slices.Sort(names)
		for j, n := range names {
			if j > 0 {
				b = append(b, ',')
			}
			b = jsonw.String(b, n)
			b = append(b, ':')
			b = appendValue(b, vals[n])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return append(b, "null"...) // never decoded from JSON
		}
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case string:
		return jsonw.String(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	}
	return append(b, "null"...)
}
