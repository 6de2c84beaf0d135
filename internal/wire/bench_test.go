package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

// decodeRequestSDK is DecodeRequest as it was with sdk-go's Validate, kept
// to measure what dropping it saved (doc.go) and to check that both refuse
// the same events.
func decodeRequestSDK(subject string, h nats.Header, data []byte) (*Request, error) {
	r := &Request{
		ID:      get(h, schemas.HeaderID),
		Source:  get(h, schemas.HeaderSource),
		ReplyTo: get(h, schemas.HeaderReplyTo),
	}
	parts := strings.Split(subject, ".")
	if len(parts) == 3 && parts[0] == "db" {
		r.Database, r.Tag = parts[1], parts[2]
	}
	// The SDK's event for an unknown spec version has no attribute writer
	// (its setters panic), so the version is checked first.
	if sv := get(h, schemas.HeaderSpecVersion); sv != "1.0" {
		return r, fmt.Errorf("%w: ce-specversion %q, want 1.0", ErrMalformed, sv)
	}
	ev := cloudevents.New("1.0")
	ev.SetID(r.ID)
	ev.SetSource(r.Source)
	ev.SetType(get(h, schemas.HeaderType))
	ev.SetSubject(get(h, schemas.HeaderSubject))
	if t := get(h, schemas.HeaderTime); t != "" {
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return r, fmt.Errorf("%w: ce-time %q is not RFC 3339", ErrMalformed, t)
		}
		r.Time = tm
		ev.SetTime(tm)
	}
	if err := ev.Validate(); err != nil {
		return r, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if ev.Type() != schemas.TypeQueryRequest {
		return r, fmt.Errorf("%w: ce-type %q, want %s", ErrMalformed, ev.Type(), schemas.TypeQueryRequest)
	}
	if ct := get(h, schemas.HeaderContentType); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return r, fmt.Errorf("%w: content-type %q, want application/json", ErrMalformed, ct)
	}
	if d := get(h, schemas.HeaderDeadline); d != "" {
		tm, err := time.Parse(time.RFC3339Nano, d)
		if err != nil {
			return r, fmt.Errorf("%w: ce-dqmdeadline %q is not RFC 3339", ErrMalformed, d)
		}
		r.Deadline = tm
	}
	if err := json.Unmarshal(data, &r.Data); err != nil {
		return r, fmt.Errorf("%w: data: %v", ErrMalformed, err)
	}
	if r.Data.QueryRef == 0 && !strings.Contains(string(data), `"query_ref"`) {
		return r, fmt.Errorf("%w: data has no query_ref", ErrMalformed)
	}
	return r, nil
}

func BenchmarkDecodeRequest(b *testing.B) {
	for _, data := range []struct{ name, json string }{
		{"params", `{"query_ref":55,"params":{"INTEGER":{"START":500,"FINISH":600}}}`},
		{"bare", `{"query_ref":55}`},
	} {
		m := NewRequest("db.demo.fast", "01J9Z3Q8W6TQ0N3H5V7X2K4M8P", "/svc/billing", "_INBOX.abc.def",
			time.Now().Add(time.Minute), []byte(data.json), 55)
		for _, bc := range []struct {
			name   string
			decode func(string, nats.Header, []byte) (*Request, error)
		}{{"hand", DecodeRequest}, {"sdk", decodeRequestSDK}} {
			b.Run("data="+data.name+"/validate="+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := bc.decode(m.Subject, m.Header, m.Data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// sink keeps a built message escaping, as a published one does: without
// it the compiler may build the header map on the stack.
var sink *nats.Msg

func BenchmarkNewReply(b *testing.B) {
	body := []byte(`{"success":true,"query_ref":55,"database":"demo","rows":[{"numbers":500}],"row_count":1,"column_count":1,"status":200}`)
	b.ReportAllocs()
	for b.Loop() {
		sink = NewReply("_INBOX.abc.def", "01J9Z3Q8W6TQ0N3H5V7X2K4M8P", "/dqm/x", body)
	}
}

// BenchmarkReply is the worker's reply path: (*Request).Reply for a binary
// request without trace context must cost what NewReply does.
func BenchmarkReply(b *testing.B) {
	body := []byte(`{"success":true,"query_ref":55,"database":"demo","rows":[{"numbers":500}],"row_count":1,"column_count":1,"status":200}`)
	r := &Request{ID: "01J9Z3Q8W6TQ0N3H5V7X2K4M8P", ReplyTo: "_INBOX.abc.def"}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = r.Reply("/dqm/x", body)
		}
	})
	rs := *r
	rs.Structured = true
	b.Run("structured", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sink = rs.Reply("/dqm/x", body)
		}
	})
}

// BenchmarkDecodeStructured is a structured-mode request (encoding/json
// over the whole event; binary mode is the fast path).
func BenchmarkDecodeStructured(b *testing.B) {
	data := []byte(`{"specversion":"1.0","id":"01J9Z3Q8W6TQ0N3H5V7X2K4M8P","source":"/svc/billing","type":"` + schemas.TypeQueryRequest +
		`","time":"2026-01-02T03:04:05Z","dqmreplyto":"_INBOX.abc.def","datacontenttype":"application/json",` +
		`"data":{"query_ref":55,"params":{"INTEGER":{"START":500,"FINISH":600}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRequest("db.demo.fast", nil, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewRequest(b *testing.B) {
	deadline := time.Now().Add(time.Minute)
	data := []byte(`{"query_ref":55,"params":{"number":{"N":42}}}`)
	b.ReportAllocs()
	for b.Loop() {
		m := NewRequest("db.demo.fast", "0123456789abcdefghijkl", "/dqm/client", "_INBOX.abc.0123456789abcdefghijkl", deadline, data, 55)
		SetTrace(m.Header, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "")
	}
}
