package wire

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

func TestAppendQueryRequestMatchesMarshal(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	for _, p := range []schemas.Params{
		nil,
		{},
		{"number": {"N": raw("42")}},
		{"string": {"b": raw(`"x"`), "a": raw(`"y\"z"`)}, "number": {"N": raw("-1.5e3")}, "json": {"j": raw(`{"a":[1,null]}`)}},
		{"number": nil},
		{"number": {}},
		{"string": {"s": raw(` "spaced" `)}},
		{"string": {"s": raw(`"<b>&"`)}},
		{"string": {"s": raw(`"é"`)}},
		{"string": {"s": raw(`"bad`)}},
		{"string": {"s": nil}},
		{"str<ing": {"s": raw(`1`)}},
		{"string": {"s\"q": raw(`1`)}},
		{"a": {"1": raw("1"), "2": raw("2"), "3": raw("3"), "4": raw("4"), "5": raw("5"), "6": raw("6"), "7": raw("7"), "8": raw("8"), "9": raw("9")}},
	} {
		want, werr := json.Marshal(schemas.QueryRequest{QueryRef: 7, Params: p})
		got, gerr := AppendQueryRequest([]byte("prefix"), 7, p)
		if (werr == nil) != (gerr == nil) {
			t.Errorf("%v: err %v, want %v", p, gerr, werr)
			continue
		}
		if werr == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%v:\n got %s\nwant prefix%s", p, got, want)
		}
	}
}

func BenchmarkAppendQueryRequest(b *testing.B) {
	p := schemas.Params{"number": {"N": json.RawMessage("4242")}}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			AppendQueryRequest(nil, 55, p)
		}
	})
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(schemas.QueryRequest{QueryRef: 55, Params: p})
		}
	})
}
