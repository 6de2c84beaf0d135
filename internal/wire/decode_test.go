package wire

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

var decodeCases = []string{
	`{"success":true,"query_ref":5,"database":"test","description":"d","rows":[{"a":1,"b":"x\"}]"}],"row_count":1,"column_count":2,"execution_time_ms":3,"queue_used":"fast","cached":false}`,
	`{"success":true,"query_ref":5,"database":"test","rows":[],"row_count":0,"column_count":0,"affected_rows":[1, 2 ,3],"execution_time_ms":0,"queue_used":"slow","cached":true,"cache_age_ms":12,"message":"m","status":200}`,
	`{"success":false,"query_ref":-1,"database":"test","error":"timeout","message":"no reply","status":408}`,
	` { "success" : false , "query_ref" : 7 } `,
	`{}`,
	`{"Success":true}`,
	`{"message":"a\nb"}`,
	`{"message":"é"}`,
	`{"rows":null}`,
	`{"rows":5,"row_count":1}`,
	`{"rows":"s","row_count":1}`,
	`{"rows":{"a":[1,{"b":"]"}]},"row_count":1}`,
	`{"query_ref":1.5}`,
	`{"query_ref":1e3}`,
	`{"query_ref":"1"}`,
	`{"query_ref":99999999999999999999}`,
	`{"success":1}`,
	`{"database":null}`,
	`{"affected_rows":[]}`,
	`{"affected_rows":[1.5]}`,
	`{"affected_rows":null}`,
	`{"unknown":{"x":[1,2]},"success":true}`,
	`{"success":true,"success":false}`,
	`{"success":true`,
	`[1]`,
	`null`,
	``,
	`{"status":9223372036854775807}`,
}

func TestDecodeResultMatchesUnmarshal(t *testing.T) {
	cases := decodeCases
	for _, r := range []*schemas.Result{
		{Success: true, QueryRef: 3, Database: "db", Rows: json.RawMessage(`[{"n":1}]`), RowCount: 1, ColumnCount: 1, QueueUsed: "fast"},
		{Success: true, QueryRef: 3, Database: "db", AffectedRows: []int64{1, 0}, Message: `say "hi"`, Status: 200},
		schemas.Failure("db", 9, schemas.Errorf(schemas.CodeTimeout, "late")),
	} {
		cases = append(cases, string(r.AppendJSON(nil)))
	}
	for _, c := range cases {
		var want, got schemas.Result
		werr := json.Unmarshal([]byte(c), &want)
		gerr := DecodeResult([]byte(c), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: err %v, want %v", c, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c, got, want)
		}
	}
}

func FuzzDecodeResult(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got schemas.Result
		werr := json.Unmarshal(b, &want)
		gerr := DecodeResult(b, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: err %v, want %v", b, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", b, got, want)
		}
	})
}

func BenchmarkDecodeResult(b *testing.B) {
	body := (&schemas.Result{Success: true, QueryRef: 3, Database: "db", Description: "numbers",
		Rows: json.RawMessage(`[{"numbers":42}]`), RowCount: 1, ColumnCount: 1, QueueUsed: "fast", Status: 200}).AppendJSON(nil)
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r schemas.Result
			DecodeResult(body, &r)
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r schemas.Result
			json.Unmarshal(body, &r)
		}
	})
}

var requestCases = []string{
	`{"query_ref":55,"params":{"number":{"N":42}}}`,
	`{"query_ref":55,"params":{"string":{"a":"x\"y","b":"é"},"number":{"N":-1.5e3},"json":{"j":{"a":[1,null,true]}}}}`,
	` { "query_ref" : 1 , "params" : { } } `,
	`{"query_ref":1,"params":null}`,
	`{"query_ref":1,"params":{"number":null}}`,
	`{"query_ref":1,"params":{"number":{"N":null}}}`,
	`{"query_ref":1,"params":{"number":{"N":1}},"params":{"number":{"M":2},"string":{"s":""}}}`,
	`{"query_ref":1,"params":{"number":{"N":1},"number":{"M":2}}}`,
	`{"Query_Ref":1}`,
	`{"query_ref":"1"}`,
	`{"query_ref":1.0}`,
	`{"query_ref":1,"params":{"n\u0075mber":{"N":1}}}`,
	`{"query_ref":1,"params":[]}`,
	`{"query_ref":1,"extra":2}`,
	`{}`,
	`[]`,
	`{"query_ref":1`,
}

func TestDecodeQueryRequestMatchesUnmarshal(t *testing.T) {
	for _, c := range requestCases {
		var want, got schemas.QueryRequest
		werr := json.Unmarshal([]byte(c), &want)
		gerr := DecodeQueryRequest([]byte(c), &got)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%s: err %v, want %v", c, gerr, werr)
			continue
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c, got, want)
		}
	}
}

func FuzzDecodeQueryRequest(f *testing.F) {
	for _, c := range requestCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want, got schemas.QueryRequest
		werr := json.Unmarshal(b, &want)
		gerr := DecodeQueryRequest(b, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: err %v, want %v", b, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", b, got, want)
		}
	})
}

func BenchmarkDecodeQueryRequest(b *testing.B) {
	body := []byte(`{"query_ref":55,"params":{"number":{"N":4242}}}`)
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q schemas.QueryRequest
			DecodeQueryRequest(body, &q)
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q schemas.QueryRequest
			json.Unmarshal(body, &q)
		}
	})
}

func FuzzDecodeQueryBody(f *testing.F) {
	for _, c := range append(requestCases, `{"query_ref":1,"database":"test","params":{"number":{"N":1}}}`,
		`{"database":null}`, `{"database":"a\"b"}`, `{"Database":"x"}`, `{"query_ref":null}`) {
		f.Add([]byte(c))
	}
	type single struct {
		QueryRef *int64         `json:"query_ref"`
		Database *string        `json:"database"`
		Params   schemas.Params `json:"params"`
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ref, db, p, ok := DecodeQueryBody(b)
		if !ok {
			return
		}
		var want single
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: read, but Unmarshal says %v", b, err)
		}
		if got := (single{ref, db, p}); !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", b, got, want)
		}
	})
}
