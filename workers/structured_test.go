package workers

import (
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

// structured is a structured-mode request (no ce-* headers) for refRead
// with its inbox in the dqmreplyto attribute.
func structured(id, inbox string) *nats.Msg {
	ev := map[string]any{"specversion": "1.0", "type": schemas.TypeQueryRequest, "source": "/svc/test", "id": id,
		"dqmreplyto": inbox, "datacontenttype": "application/json",
		"data": map[string]any{"query_ref": refRead, "params": map[string]any{"INTEGER": map[string]int{"N": 1}}}}
	b, _ := json.Marshal(ev)
	return &nats.Msg{Subject: "db.demo.fast", Data: b}
}

// TestStructuredMode: a structured request is answered with a structured
// reply on its dqmreplyto inbox; one whose inbox is not allowed is not
// run, dead-lettered and terminated, as in binary mode.
func TestStructuredMode(t *testing.T) {
	h := newHarness(t)
	fm, out := h.handle(structured("s-1", "_INBOX.s.1"))
	m, ev := reply(t, out, "_INBOX.s.1")
	data, _ := ev["data"].(map[string]any)
	if fm.outcome() != "ack" || m.Header.Get(schemas.HeaderContentType) != schemas.ContentTypeStructured ||
		ev["type"] != schemas.TypeQueryResult || ev[schemas.ExtRequestID] != "s-1" || data["success"] != true || data["status"] != float64(200) {
		t.Fatalf("%s %v %v", fm.outcome(), m.Header, ev)
	}

	fm, out = h.handle(structured("s-2", "db.other.fast"))
	if _, runs := h.e.counts(); fm.outcome() != "term" || runs != 1 || len(out["db.other.fast"]) != 0 || len(out[schemas.DLQSubject("demo")]) != 1 {
		t.Fatalf("%s runs %d, published %v", fm.outcome(), runs, subjects(out))
	}
}
