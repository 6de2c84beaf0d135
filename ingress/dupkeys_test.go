package ingress

import (
	"strings"
	"testing"
)

func TestNoDuplicateKeys(t *testing.T) {
	for _, c := range []struct {
		json, dup string // dup: the key named in the error, "" for none
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, ""},
		{`{"query_ref":1,"query_ref":2}`, "query_ref"},
		{`{"params":{"INTEGER":{"N":1,"N":2}}}`, "N"},
		{`{"params":{"INTEGER":{"N":1},"INTEGER":{"M":2}}}`, "INTEGER"},
		{`[{"x":1},{"y":[1,{"z":1,"z":2}]}]`, "z"},
		{`{"Query_Ref":1,"query_ref":2}`, ""}, // two keys; decoding refuses the unknown one
		{`{"a":"a","b":"a"}`, ""},
	} {
		err := noDuplicateKeys([]byte(c.json), "body")
		if c.dup == "" && err != nil || c.dup != "" && (err == nil || !strings.Contains(err.Error(), `"`+c.dup+`" appears twice`)) {
			t.Errorf("%s: %v, want duplicate %q", c.json, err, c.dup)
		}
	}
}
