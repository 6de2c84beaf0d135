package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

// TestSplitReplyAndCachedBody: the REST body taken from a reply's bytes,
// and a cache hit's body made from it, are what encoding the result
// would give.
func TestSplitReplyAndCachedBody(t *testing.T) {
	rows := json.RawMessage(`[{"cached":false,"s":"\",\"cached\":false"}]`)
	for _, r := range []schemas.Result{
		{Success: true, QueryRef: 2, Database: "d", Rows: rows, RowCount: 1, ColumnCount: 2, QueueUsed: "fast", Status: 200},
		{Success: true, QueryRef: 2, Database: "d", Rows: rows, RowCount: 1, ColumnCount: 2, Message: "unused: X", Status: 200},
		{QueryRef: 9, Database: "d", Error: schemas.CodeQueryNotFound, Message: "no", Status: 404},
	} {
		data := r.AppendJSON(nil)
		want := r
		want.Status = 0
		body, status, ok := SplitReply(data)
		if !ok || status != r.Status || string(body) != string(want.AppendJSON(nil)) {
			t.Errorf("SplitReply(%s) = %s, %d, %v", r.AppendJSON(nil), body, status, ok)
		}
		hit, ok := AppendCachedBody(nil, body, 7)
		want.Cached, want.CacheAgeMS = true, 7
		if r.Success && (!ok || string(hit) != string(want.AppendJSON(nil))) {
			t.Errorf("AppendCachedBody = %s, %v; want %s", hit, ok, want.AppendJSON(nil))
		}
		if !r.Success && ok {
			t.Errorf("AppendCachedBody of a failure = %s", hit)
		}
	}
	for _, bad := range []string{`{"success":true}`, `{"status":200}`, `{"success":true,"status":2x0}`, `,"status":}`} {
		if _, _, ok := SplitReply([]byte(bad)); ok {
			t.Errorf("SplitReply(%s) ok", bad)
		}
	}
}

// replyCases are replies as workers write them, with rows that hold the
// text ReadReply looks for.
func replyCases() [][]byte {
	rows := json.RawMessage(`[{"a":[1],"row_count":2,"s":"],\"row_count\":","cached":false,"status":5}]`)
	var out [][]byte
	for _, r := range []schemas.Result{
		{Success: true, QueryRef: 2, Database: "d", Description: "numbers", Rows: rows, RowCount: 1, ColumnCount: 4, QueueUsed: "fast", Status: 200},
		{Success: true, QueryRef: 2, Database: "d", Rows: json.RawMessage(`[]`), AffectedRows: []int64{1, 0}, Message: "unused parameters: X", Status: 200},
		{Success: true, QueryRef: 2, Database: "d", Rows: json.RawMessage(`[]`), AffectedRows: []int64{}, Status: 200},
		{Success: true, QueryRef: 2, Database: "d", Rows: rows, Cached: true, CacheAgeMS: 9, Status: 200},
		{QueryRef: 9, Database: "d", Error: schemas.CodeQueryNotFound, Message: "no", Status: 200},
		{QueryRef: 9, Database: "d", Error: schemas.CodeTimeout, Message: `say "late"`, Status: 408}, // an escape: not read here
		{Success: true, QueryRef: 2, Database: "d", Rows: rows},                                      // no status: not read here
	} {
		out = append(out, r.AppendJSON(nil))
	}
	return out
}

// TestReadReply: a reply read without its rows gives the result and body
// that decoding it in full and splitting it give; what it does not read
// it leaves as it was.
func TestReadReply(t *testing.T) {
	for n, data := range replyCases() {
		var want schemas.Result
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		wantBody, _, split := SplitReply(bytes.Clone(data))
		plain := !bytes.Contains(data, []byte(`\"late`)) && split
		orig := bytes.Clone(data)
		var got schemas.Result
		body, ok := ReadReply(data, &got)
		if ok != plain {
			t.Fatalf("case %d %s: ok %v, want %v", n, orig, ok, plain)
		}
		if !ok {
			if !bytes.Equal(data, orig) {
				t.Fatalf("case %d: data changed: %s", n, data)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) || !bytes.Equal(body, wantBody) {
			t.Errorf("case %d %s:\n got %+v %s\nwant %+v %s", n, orig, got, body, want, wantBody)
		}
	}
}

func FuzzReadReply(f *testing.F) {
	for _, c := range replyCases() {
		f.Add(c)
	}
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		data := bytes.Clone(b)
		var got schemas.Result
		body, ok := ReadReply(data, &got)
		if !ok {
			if !bytes.Equal(data, b) {
				t.Fatalf("%q: not read, yet changed to %q", b, data)
			}
			return
		}
		if !json.Valid(b) {
			return // the rows are not checked
		}
		var want schemas.Result
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: read, but Unmarshal says %v", b, err)
		}
		wantBody, _, _ := SplitReply(bytes.Clone(b))
		if !reflect.DeepEqual(got, want) || !bytes.Equal(body, wantBody) {
			t.Fatalf("%q:\n got %+v %q\nwant %+v %q", b, got, body, want, wantBody)
		}
	})
}
