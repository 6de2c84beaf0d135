package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
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
	// Structured mode: no ce-* headers, the whole event in the body.
	f.Add("", "", "", "", "", "", "", []byte(`{"specversion":"1.0","type":"`+schemas.TypeQueryRequest+`","id":"s","source":"/s","dqmreplyto":"_INBOX.x","data":{"query_ref":55}}`))
	f.Add("", "", "", "", "", "", schemas.ContentTypeStructured, []byte(`{"specversion":"1.0","type":"`+schemas.TypeQueryRequest+`","id":"s","source":"/s","traceparent":"`+testTraceParent+`","data_base64":"eyJxdWVyeV9yZWYiOjF9"}`))
	f.Add("", "", "", "", "", "", "", []byte(`{"specversion":"1.0","data":{"query_ref":1},"data_base64":"e30="}`))
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

const testTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// sdkStructured is a request as sdk-go writes it in structured mode.
func sdkStructured(t *testing.T, mutate func(*cloudevents.Event)) []byte {
	t.Helper()
	ev := cloudevents.New()
	ev.SetID("s-1")
	ev.SetSource("/svc/sdk")
	ev.SetType(schemas.TypeQueryRequest)
	ev.SetSubject("55")
	ev.SetTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ev.SetExtension("dqmreplyto", "_INBOX.sdk.1")
	ev.SetExtension("traceparent", testTraceParent)
	ev.SetExtension("tracestate", "dqm=1")
	if err := ev.SetData("application/json", map[string]any{"query_ref": 55, "params": map[string]any{"INTEGER": map[string]int{"N": 1}}}); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(&ev)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStructuredRequest: structured mode (CONTRACT §2) as sdk-go writes it
// (no headers at all) or with content-type application/cloudevents+json;
// data as JSON or data_base64; dqmreplyto as an attribute, Dqm-Reply-To
// header its alias.
func TestStructuredRequest(t *testing.T) {
	for _, c := range []struct {
		name string
		h    nats.Header
		data []byte
	}{
		{"sdk, no headers", nil, sdkStructured(t, nil)},
		{"content-type", nats.Header{"content-type": {"application/cloudevents+json; charset=utf-8"}}, sdkStructured(t, nil)},
		{"data_base64", nil, sdkStructured(t, func(ev *cloudevents.Event) {
			ev.SetData("application/octet-stream", []byte(`{"query_ref":55,"params":{"INTEGER":{"N":1}}}`))
			ev.SetDataContentType("application/json")
			ev.DataBase64 = true
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "data_base64" && !strings.Contains(string(c.data), `"data_base64"`) {
				t.Fatalf("not base64: %s", c.data)
			}
			r, err := DecodeRequest("db.demo.fast", c.h, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Structured || r.ID != "s-1" || r.Source != "/svc/sdk" || r.ReplyTo != "_INBOX.sdk.1" || r.Database != "demo" ||
				r.Tag != "fast" || r.Data.QueryRef != 55 || string(r.Data.Params["INTEGER"]["N"]) != "1" ||
				r.TraceParent != testTraceParent || r.TraceState != "dqm=1" || r.Time.IsZero() {
				t.Fatalf("decoded %+v", r)
			}
		})
	}
	r, _ := DecodeRequest("db.demo.fast", nats.Header{schemas.HeaderReplyTo: {"_INBOX.alias"}}, sdkStructured(t, nil))
	if r.ReplyTo != "_INBOX.alias" {
		t.Fatalf("Dqm-Reply-To is the alias and wins: %q", r.ReplyTo)
	}
}

func TestStructuredRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(*cloudevents.Event)
		raw    string
		want   string
	}{
		{name: "type", mutate: func(ev *cloudevents.Event) { ev.SetType("x") }, want: "type"},
		{name: "deadline", mutate: func(ev *cloudevents.Event) { ev.SetExtension("dqmdeadline", "soon") }, want: "dqmdeadline"},
		{name: "data content type", mutate: func(ev *cloudevents.Event) { ev.SetData("text/plain", "hi") }, want: "datacontenttype"},
		{name: "no ref", mutate: func(ev *cloudevents.Event) { ev.SetData("application/json", map[string]int{}) }, want: "query_ref"},
		{name: "no data", mutate: func(ev *cloudevents.Event) { ev.DataEncoded = nil }, want: "no data"},
		{name: "not JSON", raw: `{"specversion":"1.0","dqmreplyto":"_INBOX.sdk.1"`, want: "JSON"},
		{name: "wrong type", raw: `{"specversion":"1.0","dqmreplyto":"_INBOX.sdk.1","id":5}`, want: "attribute id"},
		{name: "spec version", raw: `{"specversion":"0.3","dqmreplyto":"_INBOX.sdk.1","data":{"query_ref":1}}`, want: "specversion"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.raw)
			if c.mutate != nil {
				data = sdkStructured(t, c.mutate)
			}
			r, err := DecodeRequest("db.demo.fast", nil, data)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
			// Truncated JSON has no inbox to read: it is dead-lettered
			// unanswered (the guard), like a binary request without one.
			if (r.ReplyTo != "_INBOX.sdk.1" && c.name != "not JSON") || !r.Structured {
				t.Fatalf("the inbox and the mode survive a decode error: %+v", r)
			}
		})
	}
}

// TestReplyModes: a structured request gets a structured reply (the whole
// result event as JSON, which sdk-go reads back), a binary one a binary
// reply; both carry dqmrequestid and the trace context.
func TestReplyModes(t *testing.T) {
	body := []byte(`{"success":true,"query_ref":55,"status":200}`)
	r, err := DecodeRequest("db.demo.fast", nil, sdkStructured(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Reply("/dqm/w", body)
	if m.Subject != "_INBOX.sdk.1" || m.Header.Get("content-type") != schemas.ContentTypeStructured {
		t.Fatalf("%s %v", m.Subject, m.Header)
	}
	var ev cloudevents.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		t.Fatalf("%v: %s", err, m.Data)
	}
	if ev.Type() != schemas.TypeQueryResult || ev.Extensions()["dqmrequestid"] != "s-1" || ev.Extensions()["traceparent"] != testTraceParent ||
		ev.Extensions()["tracestate"] != "dqm=1" || string(ev.Data()) != string(body) || ev.Validate() != nil {
		t.Fatalf("reply event %v", ev)
	}

	b := NewRequest("db.demo.fast", "b-1", "/s", "_INBOX.b", time.Time{}, []byte(`{"query_ref":1}`), 1)
	b.Header.Set(schemas.HeaderTraceParent, testTraceParent)
	rb, err := DecodeRequest(b.Subject, b.Header, b.Data)
	if err != nil || rb.Structured || rb.TraceParent != testTraceParent {
		t.Fatalf("%+v %v", rb, err)
	}
	mb := rb.Reply("/dqm/w", body)
	if RequestID(mb.Header) != "b-1" || mb.Header.Get(schemas.HeaderTraceParent) != testTraceParent || string(mb.Data) != string(body) {
		t.Fatalf("binary reply %v %s", mb.Header, mb.Data)
	}
	if _, ok := NewReply("_INBOX.b", "b-1", "/s", body).Header[schemas.HeaderTraceParent]; ok {
		t.Fatal("no trace context, no header")
	}
}

// TestTraceParentValidation: a malformed traceparent is dropped (W3C
// Trace Context), never echoed into a reply.
func TestTraceParentValidation(t *testing.T) {
	for tp, ok := range map[string]bool{
		testTraceParent: true,
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future":  true,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x":       false,
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01":         false,
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01":         false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01":         false,
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01":         false,
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX: y": false,
		"garbage": false,
	} {
		var r Request
		r.setTrace(tp, "a=b")
		if (r.TraceParent != "") != ok || (r.TraceState != "") != ok {
			t.Errorf("%q: kept %q %q, want %v", tp, r.TraceParent, r.TraceState, ok)
		}
	}
}
