package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

func TestRequestRoundTrip(t *testing.T) {
	deadline := time.Now().Add(time.Minute).Truncate(time.Microsecond)
	m := NewRequest("db.demo.slow", "id-1", "/svc/x", "_INBOX.a.b", deadline, []byte(`{"query_ref":55,"params":{"INTEGER":{"N":1}}}`), 55)
	if m.Header.Get(schemas.HeaderMsgID) != "id-1" || m.Header.Get(schemas.HeaderSubject) != "55" {
		t.Fatalf("headers %v", m.Header)
	}
	r, err := DecodeRequest(m.Subject, m.Header, m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "id-1" || r.Source != "/svc/x" || r.ReplyTo != "_INBOX.a.b" || r.Database != "demo" || r.Tag != "slow" ||
		!r.Deadline.Equal(deadline) || r.Data.QueryRef != 55 || string(r.Data.Params["INTEGER"]["N"]) != "1" {
		t.Fatalf("decoded %+v", r)
	}
}

func TestDecodeRequestRejects(t *testing.T) {
	base := func() *nats.Msg {
		return NewRequest("db.demo.fast", "id", "/s", "_INBOX.x", time.Time{}, []byte(`{"query_ref":1}`), 1)
	}
	cases := []struct {
		name   string
		mutate func(*nats.Msg)
		want   string
	}{
		{"spec version", func(m *nats.Msg) { m.Header.Set("ce-specversion", "0.3") }, "specversion"},
		{"no spec version", func(m *nats.Msg) { m.Header.Del("ce-specversion") }, "specversion"},
		{"type", func(m *nats.Msg) { m.Header.Set("ce-type", "x") }, "ce-type"},
		{"no id", func(m *nats.Msg) { m.Header.Del("ce-id") }, "id"},
		{"no source", func(m *nats.Msg) { m.Header.Del("ce-source") }, "source"},
		{"time", func(m *nats.Msg) { m.Header.Set("ce-time", "noon") }, "ce-time"},
		{"deadline", func(m *nats.Msg) { m.Header.Set("ce-dqmdeadline", "soon") }, "ce-dqmdeadline"},
		{"content type", func(m *nats.Msg) { m.Header.Set("content-type", "text/plain") }, "content-type"},
		{"data", func(m *nats.Msg) { m.Data = []byte("[") }, "data"},
		{"no ref", func(m *nats.Msg) { m.Data = []byte(`{}`) }, "query_ref"},
		{"ref type", func(m *nats.Msg) { m.Data = []byte(`{"query_ref":"1"}`) }, "data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.mutate(m)
			r, err := DecodeRequest(m.Subject, m.Header, m.Data)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			if r.ReplyTo != "_INBOX.x" {
				t.Fatal("the reply inbox must survive a decode error, so the worker can answer")
			}
		})
	}
}

// FuzzDecodeRequest: whatever arrives on a request subject, decoding
// never panics, and a request it accepts names its ref and id.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("1.0", schemas.TypeQueryRequest, "id", "/s", "", "", "application/json", []byte(`{"query_ref":55}`))
	f.Add("", "", "", "", "x", "y", "", []byte(`{`))
	f.Add("1.0", schemas.TypeQueryRequest, "id", "/s", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", "", []byte(`{"query_ref":1,"params":{"INTEGER":{"A":1}}}`))
	f.Fuzz(func(t *testing.T, spec, typ, id, source, tm, deadline, ct string, data []byte) {
		h := nats.Header{}
		for k, v := range map[string]string{"ce-specversion": spec, "ce-type": typ, "ce-id": id, "ce-source": source,
			"ce-time": tm, "ce-dqmdeadline": deadline, "content-type": ct} {
			if v != "" {
				h[k] = []string{v}
			}
		}
		r, err := DecodeRequest("db.x.fast", h, data)
		if r == nil {
			t.Fatal("nil request")
		}
		if err == nil && (r.ID == "" || r.Source == "") {
			t.Fatalf("accepted without id/source: %+v", r)
		}
	})
}

// TestDecodeMatchesSDK: the hand-written attribute checks refuse what
// sdk-go's Validate refused (doc.go says why it was dropped), and one more:
// a blank ce-source, which the SDK let through (it checks the URL's
// escaped form, "%20").
func TestDecodeMatchesSDK(t *testing.T) {
	for _, mutate := range []func(*nats.Msg){
		func(*nats.Msg) {},
		func(m *nats.Msg) { m.Header.Set("ce-id", "  ") },
		func(m *nats.Msg) { m.Header.Set("ce-source", "http://[::1") },
		func(m *nats.Msg) { m.Header.Set("ce-source", "%zz") },
		func(m *nats.Msg) { m.Header.Set("ce-type", "") },
		func(m *nats.Msg) { m.Header.Set("ce-subject", " ") },
		func(m *nats.Msg) { m.Header.Set("ce-time", "2024-01-01T00:00:00Z") },
	} {
		m := NewRequest("db.demo.fast", "id", "/s", "_INBOX.x", time.Time{}, []byte(`{"query_ref":1}`), 1)
		mutate(m)
		_, hand := DecodeRequest(m.Subject, m.Header, m.Data)
		_, sdk := decodeRequestSDK(m.Subject, m.Header, m.Data)
		if (hand == nil) != (sdk == nil) {
			t.Errorf("headers %v: hand %v, sdk %v", m.Header, hand, sdk)
		}
	}
	m := NewRequest("db.demo.fast", "id", " ", "_INBOX.x", time.Time{}, []byte(`{"query_ref":1}`), 1)
	if _, err := DecodeRequest(m.Subject, m.Header, m.Data); !errors.Is(err, ErrMalformed) {
		t.Fatal("a blank ce-source is refused")
	}
}

func TestNewChange(t *testing.T) {
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("x", 3600))
	m := NewChange("demo", schemas.Change{Table: "numbers", Op: "update", Data: []byte(`{"new":{"n":1}}`), Timestamp: ts, SequenceID: 42})
	if m.Subject != "dqm.demo.changes.numbers.update" {
		t.Fatalf("subject %s", m.Subject)
	}
	want := map[string]string{
		"ce-specversion": "1.0", "ce-type": schemas.TypeChange, "ce-source": "/dqm/lead/demo", "ce-id": "demo-42",
		"ce-time": "2024-05-01T11:00:00Z", "ce-subject": "numbers", "content-type": "application/json", "Nats-Msg-Id": "demo-42",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if len(m.Header) != len(want) {
		t.Errorf("headers %v", m.Header)
	}
	var ch schemas.Change
	if err := json.Unmarshal(m.Data, &ch); err != nil || ch.Database != "demo" || ch.SequenceID != 42 || string(ch.Data) != `{"new":{"n":1}}` {
		t.Fatalf("data %s (%v)", m.Data, err)
	}
	if bad := NewChange("demo", schemas.Change{Table: "t", Op: "insert", Data: []byte(`{`), SequenceID: 1}); !json.Valid(bad.Data) {
		t.Fatalf("invalid row data must not make invalid event data: %s", bad.Data)
	}
}

func TestNewInvalidation(t *testing.T) {
	m := NewInvalidation("/dqm/lead/demo", schemas.Invalidation{Database: "demo", Table: "numbers", SequenceID: 7})
	if m.Subject != "dqm.demo.invalidate.numbers" || m.Header.Get("ce-type") != schemas.TypeInvalidation ||
		m.Header.Get("ce-id") != "demo-7-i" || m.Header.Get("ce-source") != "/dqm/lead/demo" {
		t.Fatalf("%s %v", m.Subject, m.Header)
	}
	if string(m.Data) != `{"database":"demo","table":"numbers","sequence_id":7}` {
		t.Fatalf("data %s", m.Data)
	}
	a := NewInvalidation("/dqm/i", schemas.Invalidation{Database: "demo", Table: "numbers", QueryRefs: []int64{3}})
	b := NewInvalidation("/dqm/i", schemas.Invalidation{Database: "demo", Table: "numbers", QueryRefs: []int64{3}})
	if a.Header.Get("ce-id") == "" || a.Header.Get("ce-id") == b.Header.Get("ce-id") {
		t.Fatal("a write's invalidations need unique ids")
	}
}

func TestNewWatermark(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	m := NewWatermark("/dqm/i1", schemas.Watermark{Database: "demo", Publisher: "P1", PublisherSeq: 9, IntervalMS: 1000, Time: at})
	if m.Subject != "dqm.demo.invalidate._dqm.watermark" || m.Header.Get("ce-type") != schemas.TypeWatermark ||
		m.Header.Get("ce-source") != "/dqm/i1" || m.Header.Get("ce-id") == "" {
		t.Fatalf("%s %v", m.Subject, m.Header)
	}
	want := `{"database":"demo","publisher":"P1","publisher_seq":9,"interval_ms":1000,"time":"2026-01-02T02:04:05Z"}`
	if string(m.Data) != want {
		t.Fatalf("data %s", m.Data)
	}
}

func TestNewDeadLetter(t *testing.T) {
	req := NewRequest("db.demo.fast", "id-9", "/s", "_INBOX.x", time.Time{}, []byte(`{"query_ref":1}`), 1)
	m := NewDeadLetter("demo", DeadLetter{Subject: req.Subject, Header: req.Header, Data: req.Data, Reason: schemas.DLQReasonPanic, StreamSeq: 3})
	if m.Subject != "dqm.demo.dlq" || string(m.Data) != `{"query_ref":1}` {
		t.Fatalf("%s %s", m.Subject, m.Data)
	}
	for k, v := range map[string]string{"ce-id": "id-9", "Nats-Msg-Id": "id-9", schemas.HeaderReplyTo: "_INBOX.x",
		schemas.HeaderDLQReason: "panic", schemas.HeaderDLQSubject: "db.demo.fast", schemas.HeaderDLQStreamSeq: "3"} {
		if got := m.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if m.Header.Get(schemas.HeaderDLQDeliveries) != "" || req.Header.Get(schemas.HeaderDLQReason) != "" {
		t.Fatal("unset fields are omitted and the request's headers are not touched")
	}
}

// TestReplyToExtension: the inbox may come as the ce-dqmreplyto extension
// attribute (CONTRACT §2); Dqm-Reply-To wins when both are set.
func TestReplyToExtension(t *testing.T) {
	m := NewRequest("db.demo.fast", "id", "/s", "", time.Time{}, []byte(`{"query_ref":1}`), 1)
	delete(m.Header, schemas.HeaderReplyTo)
	m.Header.Set(schemas.HeaderReplyToCE, "_INBOX.ce")
	if r, err := DecodeRequest(m.Subject, m.Header, m.Data); err != nil || r.ReplyTo != "_INBOX.ce" {
		t.Fatalf("%+v %v", r, err)
	}
	m.Header.Set(schemas.HeaderReplyTo, "_INBOX.header")
	if r, _ := DecodeRequest(m.Subject, m.Header, m.Data); r.ReplyTo != "_INBOX.header" {
		t.Fatalf("reply to %q", r.ReplyTo)
	}
}
