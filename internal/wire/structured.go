package wire

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/jsonw"
	"github.com/dqmhq/dqm/schemas"
)

// structuredEvent is a request in structured mode: the CloudEvents JSON
// format, with dqm's extension attributes. Data is the JSON value itself
// (datacontenttype application/json) or its bytes in data_base64.
type structuredEvent struct {
	SpecVersion     string          `json:"specversion"`
	Type            string          `json:"type"`
	Source          string          `json:"source"`
	ID              string          `json:"id"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Deadline        string          `json:"dqmdeadline"`
	ReplyTo         string          `json:"dqmreplyto"`
	TraceParent     string          `json:"traceparent"`
	TraceState      string          `json:"tracestate"`
	Data            json.RawMessage `json:"data"`
	DataBase64      []byte          `json:"data_base64"`
}

// decodeStructured is DecodeRequest for structured mode. encoding/json is
// fine here: binary mode is the fast path. A Dqm-Reply-To header is still
// the alias of the dqmreplyto attribute, and wins as in binary mode.
func decodeStructured(subject string, h nats.Header, data []byte) (*Request, error) {
	r := &Request{Structured: true}
	r.setSubject(subject)
	var ev structuredEvent
	// A field of the wrong type still lets the others (the inbox) be
	// read, so the requester can be told why.
	err := json.Unmarshal(data, &ev)
	r.ID, r.Source, r.ReplyTo = ev.ID, ev.Source, get(h, schemas.HeaderReplyTo)
	if r.ReplyTo == "" {
		r.ReplyTo = ev.ReplyTo
	}
	r.setTrace(ev.TraceParent, ev.TraceState)
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return r, fmt.Errorf("%w: structured event: attribute %s: want a %s", ErrMalformed, typeErr.Field, typeErr.Type)
		}
		return r, fmt.Errorf("%w: structured event is not a JSON object: %v", ErrMalformed, err)
	}
	body := []byte(ev.Data)
	if ev.DataBase64 != nil {
		if ev.Data != nil {
			return r, fmt.Errorf("%w: structured event has both data and data_base64", ErrMalformed)
		}
		body = ev.DataBase64
	}
	if body == nil {
		return r, fmt.Errorf("%w: structured event has no data", ErrMalformed)
	}
	a := attrs{names: &structuredNames, spec: ev.SpecVersion, typ: ev.Type, time: ev.Time,
		ct: ev.DataContentType, deadline: ev.Deadline}
	return r, r.check(&a, body)
}

var contentStructured = []string{schemas.ContentTypeStructured}

// Reply builds the reply to r in r's content mode: binary (ce-* headers,
// body as the data), or structured (the whole result event as JSON, the
// body as its data). Either carries dqmrequestid and the request's trace
// context back.
func (r *Request) Reply(source string, body []byte) *nats.Msg {
	if !r.Structured {
		m := NewReply(r.ReplyTo, r.ID, source, body)
		SetTrace(m.Header, r.TraceParent, r.TraceState)
		return m
	}
	b := make([]byte, 0, len(body)+256+len(r.ID)*2+len(source)+len(r.TraceParent)+len(r.TraceState))
	b = append(b, `{"specversion":"1.0","type":"`+schemas.TypeQueryResult+`","source":`...)
	b = jsonw.String(b, source)
	b = append(b, `,"id":`...)
	b = jsonw.String(b, r.ID+"-r")
	b = append(b, `,"`+schemas.ExtRequestID+`":`...)
	b = jsonw.String(b, r.ID)
	if r.TraceParent != "" {
		b = append(b, `,"traceparent":`...)
		b = jsonw.String(b, r.TraceParent)
		if r.TraceState != "" {
			b = append(b, `,"tracestate":`...)
			b = jsonw.String(b, r.TraceState)
		}
	}
	b = append(b, `,"datacontenttype":"application/json","data":`...)
	b = append(b, body...)
	b = append(b, '}')
	return &nats.Msg{Subject: r.ReplyTo, Header: nats.Header{schemas.HeaderContentType: contentStructured}, Data: b}
}

// setTrace keeps a trace context only when traceparent is well formed
// (W3C Trace Context: version-traceid-parentid-flags, lower-case hex): a
// malformed one is ignored, as the spec asks, and never echoed into a
// reply header. tracestate rides only with a valid traceparent.
func (r *Request) setTrace(parent, state string) {
	if parent == "" || !validTraceParent(parent) {
		return
	}
	r.TraceParent = parent
	if len(state) <= 512 && printable(state) {
		r.TraceState = state
	}
}

// getTrace reads a trace header by its exact name or its canonical MIME
// form: two map lookups, never get's scan of every header, which would
// cost every request that carries none (the common case).
func getTrace(h nats.Header, name, canonical string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func validTraceParent(s string) bool {
	// 00-<32 hex>-<16 hex>-<2 hex>; a later version may append "-...".
	if len(s) < 55 || (len(s) > 55 && (s[:2] == "00" || s[55] != '-')) || s[:2] == "ff" {
		return false
	}
	for i := 0; i < 55; i++ {
		c := s[i]
		switch i {
		case 2, 35, 52:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return s[3:35] != "00000000000000000000000000000000" && s[36:52] != "0000000000000000" && printable(s[55:])
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// SetTrace puts a W3C trace context on a binary-mode event's headers
// (the CloudEvents distributed-tracing extension); "" sets nothing.
func SetTrace(h nats.Header, parent, state string) {
	if parent == "" {
		return
	}
	h[schemas.HeaderTraceParent] = []string{parent}
	if state != "" {
		h[schemas.HeaderTraceState] = []string{state}
	}
}
