package params_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dqmhq/dqm/internal/params"
)

// canonicalOf decodes a params object and returns its canonical form.
func canonicalOf(t testing.TB, text string) ([]byte, params.Values, bool) {
	var raw params.Raw
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, nil, false
	}
	vals, err := params.Decode(raw)
	if err != nil {
		return nil, nil, false
	}
	return params.AppendCanonical(nil, raw, vals), vals, true
}

func TestAppendCanonical(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{`{"INTEGER":{"N":1}}`, `{ "INTEGER" : { "N" : 1 } }`, `{"INTEGER":{"N":1}}`},
		{`{"STRING":{"B":"x","A":"\u0079"}}`, `{"STRING":{"A":"y","B":"x"}}`, `{"STRING":{"A":"y","B":"x"}}`},
		{`{"FLOAT":{"F":1.50},"BOOLEAN":{"T":true}}`, `{"BOOLEAN":{"T":true},"FLOAT":{"F":15e-1}}`, `{"BOOLEAN":{"T":true},"FLOAT":{"F":1.5}}`},
		{`{"TIMESTAMP":{"T":"2024-01-02 03:04:05.500"}}`, `{"TIMESTAMP":{"T":"2024-01-02 03:04:05.5"}}`, `{"TIMESTAMP":{"T":"2024-01-02 03:04:05.5"}}`},
		{`{"INTEGER":{"N":null}}`, `{"INTEGER":{"N": null}}`, `{"INTEGER":{"N":null}}`},
		{`{}`, `{ }`, `{}`},
	} {
		a, _, okA := canonicalOf(t, c.a)
		b, _, okB := canonicalOf(t, c.b)
		if !okA || !okB || string(a) != c.want || string(b) != c.want {
			t.Errorf("%s / %s: got %s / %s, want %s", c.a, c.b, a, b, c.want)
		}
	}
}

// FuzzAppendCanonical: the canonical form of accepted params decodes to
// the same values and is its own canonical form.
func FuzzAppendCanonical(f *testing.F) {
	for _, s := range []string{`{"INTEGER":{"N":1}}`, `{"FLOAT":{"F":1e300,"G":-0.0}}`, `{"STRING":{"S":"\u00e9\n\"x"}}`,
		`{"DATE":{"D":"2024-02-29"},"TIME":{"T":"23:59:59"},"DATETIME":{"X":"2024-01-01 00:00:00"}}`,
		`{"BOOLEAN":{"B":false},"TEXT":{"T":""}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		canon, vals, ok := canonicalOf(t, text)
		if !ok {
			return
		}
		again, vals2, ok := canonicalOf(t, string(canon))
		if !ok {
			t.Fatalf("canonical %s of %s does not decode", canon, text)
		}
		if string(again) != string(canon) || !reflect.DeepEqual(vals, vals2) {
			t.Fatalf("%s: canonical %s, again %s; values %v vs %v", text, canon, again, vals, vals2)
		}
	})
}
