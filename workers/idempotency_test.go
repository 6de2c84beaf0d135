package workers

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
)

// TestOutcomeIsTheReply: a write's reply is built once: the outcome its
// record stores is, byte for byte, the body it published.
func TestOutcomeIsTheReply(t *testing.T) {
	h := newHarness(t)
	inbox := nats.NewInbox()
	_, out := h.handle(queryMsg("once-1", refWrite, inbox, time.Time{}))
	m, body := reply(t, out, inbox)
	if body["success"] != true {
		t.Fatalf("reply %v", body)
	}
	h.e.mu.Lock()
	rec := h.e.records["once-1"]
	h.e.mu.Unlock()
	if string(rec.Outcome) != string(m.Data) {
		t.Fatalf("recorded outcome\n%s\npublished\n%s", rec.Outcome, m.Data)
	}
}

// TestLegacyBodyHash: a record made before the canonical body hash (its
// hash over json.Marshal of the values) still matches its own body, and
// still refuses another; an outcome recorded without queue_used and
// status (as they were stored then) is replayed with both.
func TestLegacyBodyHash(t *testing.T) {
	h := newHarness(t)
	h.e.records = map[string]engines.Recorded{"old-1": {Ref: refWrite,
		BodyHash: legacyBodyHash(refWrite, params.Values{"N": int64(1)}),
		Outcome:  []byte(`{"success":true,"query_ref":2,"database":"demo","rows":[],"row_count":0,"column_count":0,"affected_rows":[1],"execution_time_ms":0,"cached":false}`)}}
	inbox := nats.NewInbox()
	_, out := h.handle(queryMsg("old-1", refWrite, inbox, time.Time{}))
	_, body := reply(t, out, inbox)
	if body["success"] != true || !strings.Contains(body["message"].(string), "already applied") ||
		body["queue_used"] != "fast" || body["status"] != 200.0 {
		t.Fatalf("replay of a legacy record: %v", body)
	}
	other := queryMsg("old-1", refWrite, inbox, time.Time{})
	other.Data = []byte(`{"query_ref":2,"params":{"INTEGER":{"N":2}}}`)
	_, out = h.handle(other)
	if _, body := reply(t, out, inbox); body["error"] != "idempotency_mismatch" {
		t.Fatalf("another body under a legacy record: %v", body)
	}
	if _, runs := h.e.counts(); runs != 0 {
		t.Fatalf("the write ran %d times", runs)
	}
}

// TestBodyHashCanonical: the same params written differently are the
// same body; another type group is another body.
func TestBodyHashCanonical(t *testing.T) {
	hash := func(raw params.Raw) string {
		t.Helper()
		vals, err := params.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		return bodyHash(refWrite, raw, vals)
	}
	a := hash(params.Raw{"FLOAT": {"F": []byte("1.5")}, "STRING": {"S": []byte(`"x"`)}})
	b := hash(params.Raw{"STRING": {"S": []byte(`"\u0078"`)}, "FLOAT": {"F": []byte("15e-1")}})
	c := hash(params.Raw{"FLOAT": {"F": []byte("1.5")}, "TEXT": {"S": []byte(`"x"`)}})
	if a != b || a == c {
		t.Fatalf("same body %v, other group differs %v", a == b, a != c)
	}
}
