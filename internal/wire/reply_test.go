package wire

import (
	"encoding/json"
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
