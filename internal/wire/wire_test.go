package wire

import (
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
