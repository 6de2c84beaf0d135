package wire

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

// Request is a decoded query request.
type Request struct {
	ID       string
	Source   string
	Time     time.Time
	Deadline time.Time // zero: none
	ReplyTo  string
	Database string // from the subject db.<name>.<tag>
	Tag      string
	Data     schemas.QueryRequest

	// TraceParent and TraceState are the W3C trace context (the
	// CloudEvents distributed-tracing extension), "" when absent or not
	// well formed; the reply carries them back.
	TraceParent, TraceState string
	// Structured: the request came in structured mode, and so does its
	// reply (Reply).
	Structured bool
}

// NewRequest builds the request message for subject db.<name>.<tag>. The
// ce-id doubles as Nats-Msg-Id, so a retried publish is deduplicated.
func NewRequest(subject, id, source, replyTo string, deadline time.Time, data []byte, ref int64) *nats.Msg {
	// One backing array for the per-request values, each capped so that
	// an Add to one header never writes into the next; room in the map
	// for the deadline and the trace context.
	v := [...]string{id, source, time.Now().UTC().Format(time.RFC3339Nano), strconv.FormatInt(ref, 10), replyTo, ""}
	vals := v[:]
	idv := vals[0:1:1]
	h := make(nats.Header, 12)
	h[schemas.HeaderSpecVersion] = specVersion
	h[schemas.HeaderType] = requestType
	h[schemas.HeaderSource] = vals[1:2:2]
	h[schemas.HeaderID] = idv
	h[schemas.HeaderTime] = vals[2:3:3]
	h[schemas.HeaderSubject] = vals[3:4:4]
	h[schemas.HeaderContentType] = contentJSON
	h[schemas.HeaderReplyTo] = vals[4:5:5]
	h[schemas.HeaderMsgID] = idv
	if !deadline.IsZero() {
		vals[5] = deadline.UTC().Format(time.RFC3339Nano)
		h[schemas.HeaderDeadline] = vals[5:6:6]
	}
	return &nats.Msg{Subject: subject, Header: h, Data: data}
}

// Header values that never change, shared by every message: nats.go only
// reads them.
var (
	specVersion = []string{"1.0"}
	requestType = []string{schemas.TypeQueryRequest}
	resultType  = []string{schemas.TypeQueryResult}
	contentJSON = []string{"application/json"}
)

// ErrMalformed marks a request that is not a valid dqm query event.
var ErrMalformed = errors.New("malformed request")

// attrs are a request's attributes as text, whichever content mode
// carried them, and the names to report them by.
type attrs struct {
	names                         *attrNames
	spec, typ, time, ct, deadline string
}

type attrNames struct{ spec, typ, id, source, time, ct, deadline string }

var (
	binaryNames = attrNames{schemas.HeaderSpecVersion, schemas.HeaderType, schemas.HeaderID, schemas.HeaderSource,
		schemas.HeaderTime, schemas.HeaderContentType, schemas.HeaderDeadline}
	structuredNames = attrNames{"specversion", "type", "id", "source", "time", "datacontenttype", schemas.ExtDeadline}
)

// DecodeRequest validates a request message: a CloudEvents 1.0 event of
// type io.dqm.query.request.v1 with JSON data holding query_ref, in binary
// mode (ce-* headers) or structured mode (content-type
// application/cloudevents+json, or no ce-specversion and no content-type
// at all, which is how sdk-go's NATS binding sends it: the whole event as
// JSON in the body). A decode error still returns the Request with
// whatever could be read, so the worker can reply to ReplyTo with the
// reason.
func DecodeRequest(subject string, h nats.Header, data []byte) (*Request, error) {
	spec := get(h, schemas.HeaderSpecVersion)
	ct := get(h, schemas.HeaderContentType)
	if strings.HasPrefix(ct, schemas.ContentTypeStructured) || (spec == "" && ct == "") {
		return decodeStructured(subject, h, data)
	}
	r := &Request{
		ID:      get(h, schemas.HeaderID),
		Source:  get(h, schemas.HeaderSource),
		ReplyTo: get(h, schemas.HeaderReplyTo),
	}
	if r.ReplyTo == "" {
		r.ReplyTo = get(h, schemas.HeaderReplyToCE)
	}
	if tp := getTrace(h, schemas.HeaderTraceParent, "Ce-Traceparent"); tp != "" {
		r.setTrace(tp, getTrace(h, schemas.HeaderTraceState, "Ce-Tracestate"))
	}
	r.setSubject(subject)
	if ct == "" {
		ct = get(h, schemas.HeaderDataContentType)
	}
	a := attrs{names: &binaryNames, spec: spec, typ: get(h, schemas.HeaderType), time: get(h, schemas.HeaderTime),
		ct: ct, deadline: get(h, schemas.HeaderDeadline)}
	return r, r.check(&a, data)
}

func (r *Request) setSubject(subject string) {
	// db.<name>.<tag>, without strings.Split's slice.
	rest, ok := strings.CutPrefix(subject, "db.")
	if !ok {
		return
	}
	name, tag, ok := strings.Cut(rest, ".")
	if ok && !strings.Contains(tag, ".") {
		r.Database, r.Tag = name, tag
	}
}

// check validates the attributes shared by both modes and decodes data.
func (r *Request) check(a *attrs, data []byte) error {
	n := a.names
	if a.spec != "1.0" {
		return fmt.Errorf("%w: %s %q, want 1.0", ErrMalformed, n.spec, a.spec)
	}
	// The CloudEvents 1.0 required attributes, checked as the spec (and
	// sdk-go's Validate, see doc.go) does: id and source non-empty, source
	// a URI-reference; type is checked for the one dqm accepts.
	if strings.TrimSpace(r.ID) == "" {
		return fmt.Errorf("%w: %s: required, a non-empty string", ErrMalformed, n.id)
	}
	if strings.TrimSpace(r.Source) == "" {
		return fmt.Errorf("%w: %s: required, a non-empty URI-reference", ErrMalformed, n.source)
	}
	if !validSource(r.Source) {
		return fmt.Errorf("%w: %s %q is not a URI-reference", ErrMalformed, n.source, r.Source)
	}
	if a.time != "" {
		tm, err := time.Parse(time.RFC3339Nano, a.time)
		if err != nil {
			return fmt.Errorf("%w: %s %q is not RFC 3339", ErrMalformed, n.time, a.time)
		}
		r.Time = tm
	}
	if a.typ != schemas.TypeQueryRequest {
		return fmt.Errorf("%w: %s %q, want %s", ErrMalformed, n.typ, a.typ, schemas.TypeQueryRequest)
	}
	if a.ct != "" && !strings.HasPrefix(a.ct, "application/json") {
		return fmt.Errorf("%w: %s %q, want application/json", ErrMalformed, n.ct, a.ct)
	}
	if a.deadline != "" {
		tm, err := time.Parse(time.RFC3339Nano, a.deadline)
		if err != nil {
			return fmt.Errorf("%w: %s %q is not RFC 3339", ErrMalformed, n.deadline, a.deadline)
		}
		r.Deadline = tm
	}
	if err := DecodeQueryRequest(data, &r.Data); err != nil {
		return fmt.Errorf("%w: data: %v", ErrMalformed, err)
	}
	if r.Data.QueryRef == 0 && !strings.Contains(string(data), `"query_ref"`) {
		return fmt.Errorf("%w: data has no query_ref", ErrMalformed)
	}
	return nil
}

// sources remember a few ce-source values that parsed: a worker sees the
// same handful of services over and over, and url.Parse is the costliest
// check of a request's attributes. Slots are picked by a cheap hash; a
// collision only costs a parse.
var sources [16]atomic.Pointer[string]

// validSource reports whether s is a URI-reference.
func validSource(s string) bool {
	slot := &sources[(len(s)^int(s[len(s)-1]))&(len(sources)-1)]
	if p := slot.Load(); p != nil && *p == s {
		return true
	}
	if _, err := url.Parse(s); err != nil {
		return false
	}
	slot.Store(&s)
	return true
}

// NewReply builds the reply message for a request.
func NewReply(replyTo, requestID, source string, body []byte) *nats.Msg {
	v := [...]string{source, requestID + "-r", requestID}
	vals := v[:]
	h := make(nats.Header, 8) // room for the trace context
	h[schemas.HeaderSpecVersion] = specVersion
	h[schemas.HeaderType] = resultType
	h[schemas.HeaderSource] = vals[0:1:1]
	h[schemas.HeaderID] = vals[1:2:2]
	h[schemas.HeaderRequestID] = vals[2:3:3]
	h[schemas.HeaderContentType] = contentJSON
	return &nats.Msg{Subject: replyTo, Header: h, Data: body}
}

// RequestID is the id of the request a reply answers.
func RequestID(h nats.Header) string { return get(h, schemas.HeaderRequestID) }

// get reads a header by its exact name first (the common, allocation-free
// case), then case-insensitively for peers that canonicalise names.
func get(h nats.Header, name string) string {
	if v, ok := h[name]; ok && len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}
