package schemas

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestResultJSON: the hand-written encoder produces valid JSON that
// decodes back to the same Result, for success and failure shapes.
func TestResultJSON(t *testing.T) {
	cases := []*Result{
		{Success: true, QueryRef: 55, Database: "demo", Description: "a \"quoted\" <b>", Rows: json.RawMessage(`[{"n":1}]`),
			RowCount: 1, ColumnCount: 1, ExecutionTimeMS: 3, QueueUsed: "slow"},
		{Success: true, QueryRef: 1, Database: "d", Rows: json.RawMessage(`[]`), AffectedRows: []int64{1, 0, 2}, QueueUsed: "fast", Message: "unused parameters: X"},
		{Success: true, QueryRef: 3, Database: "d", Rows: json.RawMessage(`[]`), Cached: true, CacheAgeMS: 12, QueueUsed: "cache", Status: 200},
		{QueryRef: 9, Database: "d", Error: CodeBadParams, Message: "parameter X: missing\n", Status: 400},
	}
	for _, want := range cases {
		b := want.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		var got Result
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v\njson %s", got, *want, b)
		}
	}
}

func TestCodes(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), Errorf(CodeQueueFull, "full"))
	cases := []struct {
		err    error
		code   Code
		status int
	}{
		{nil, "", 200},
		{Errorf(CodeBadRequest, "x"), CodeBadRequest, 400},
		{Errorf(CodeQueryNotFound, "x"), CodeQueryNotFound, 200},
		{wrapped, CodeQueueFull, 429},
		{errors.New("plain"), CodeInternal, 500},
	}
	for _, c := range cases {
		if got := CodeOf(c.err); got != c.code || got.Status() != c.status {
			t.Errorf("%v: %s/%d, want %s/%d", c.err, got, got.Status(), c.code, c.status)
		}
	}
	if !errors.Is(wrapped, ErrQueueFull) || errors.Is(wrapped, ErrTimeout) {
		t.Error("errors.Is on codes")
	}
	if f := Failure("d", 1, errors.New("secret dsn postgres://u:p@h")); f.Message != "internal error" {
		t.Errorf("internal errors must not leak: %q", f.Message)
	}
}
