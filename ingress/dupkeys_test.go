package ingress

import (
	"strings"
	"testing"
)

func TestDuplicateKey(t *testing.T) {
	for _, c := range []struct {
		json, dup string // dup: the key found twice, "" for none
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":{"a":1},"b":[{"a":1},{"a":2}]}`, ""},
		{` { "query_ref" : 1 , "query_ref" : 2 } `, "query_ref"},
		{`{"params":{"INTEGER":{"N":1,"N":2}}}`, "N"},
		{`{"params":{"INTEGER":{"N":1},"INTEGER":{"M":2}}}`, "INTEGER"},
		{`[{"x":1},{"y":[1,{"z":1,"z":2}]}]`, "z"},
		{`{"query_ref":1,"query\u005fref":2}`, "query_ref"},
		{`{"a":"a","b":"a","c":["a","a"]}`, ""},
		{`{"a":"x\"y","a\"":1}`, ""},
		{`{"Query_Ref":1,"query_ref":2}`, ""},
	} {
		got, dup := duplicateKey([]byte(c.json))
		if dup != (c.dup != "") || got != c.dup {
			t.Errorf("%s: %q %v, want %q", c.json, got, dup, c.dup)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		duplicateKey([]byte(`{"query_ref":55,"database":"demo","params":{"INTEGER":{"START":1,"FINISH":3}}}`))
	}); n != 0 {
		t.Errorf("%v allocations per body", n)
	}
}

func TestDecodeExactKeys(t *testing.T) {
	for _, c := range []struct {
		body, v, want string
	}{
		{`{"query_ref":1,"query_ref":2,"database":"demo"}`, "single", `"query_ref" appears twice`},
		{`{"Query_Ref":1,"database":"demo"}`, "single", `key "Query_Ref" is not "query_ref": keys are case-sensitive`},
		{`{"database":"demo","queries":[{"QUERY_REF":1}]}`, "batch", `key "QUERY_REF" is not "query_ref"`},
		{`{"database":"demo","queries":[{"query_ref":1,"query_ref":1}]}`, "batch", `"query_ref" appears twice`},
		{`{"query_ref":1,"database":"demo","extra":true}`, "single", ""},
		{`{"query_ref":1,"database":"demo"}`, "single", ""},
	} {
		var err error
		if c.v == "single" {
			err = decodeJSON([]byte(c.body), &single{}, "body")
		} else {
			err = decodeJSON([]byte(c.body), &batch{}, "body")
		}
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.body, err, c.want)
		}
	}
}
