package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
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
}

// NewRequest builds the request message for subject db.<name>.<tag>. The
// ce-id doubles as Nats-Msg-Id, so a retried publish is deduplicated.
func NewRequest(subject, id, source, replyTo string, deadline time.Time, data []byte, ref int64) *nats.Msg {
	idv := []string{id}
	h := nats.Header{
		schemas.HeaderSpecVersion: specVersion,
		schemas.HeaderType:        requestType,
		schemas.HeaderSource:      {source},
		schemas.HeaderID:          idv,
		schemas.HeaderTime:        {time.Now().UTC().Format(time.RFC3339Nano)},
		schemas.HeaderSubject:     {strconv.FormatInt(ref, 10)},
		schemas.HeaderContentType: contentJSON,
		schemas.HeaderReplyTo:     {replyTo},
		schemas.HeaderMsgID:       idv,
	}
	if !deadline.IsZero() {
		h[schemas.HeaderDeadline] = []string{deadline.UTC().Format(time.RFC3339Nano)}
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

// DecodeRequest validates a request message: a CloudEvents 1.0 event of
// type io.dqm.query.request.v1 with JSON data holding query_ref. A decode
// error still returns the Request with whatever could be read, so the
// worker can reply to ReplyTo with the reason.
func DecodeRequest(subject string, h nats.Header, data []byte) (*Request, error) {
	r := &Request{
		ID:      get(h, schemas.HeaderID),
		Source:  get(h, schemas.HeaderSource),
		ReplyTo: get(h, schemas.HeaderReplyTo),
	}
	if r.ReplyTo == "" {
		r.ReplyTo = get(h, schemas.HeaderReplyToCE)
	}
	parts := strings.Split(subject, ".")
	if len(parts) == 3 && parts[0] == "db" {
		r.Database, r.Tag = parts[1], parts[2]
	}
	if sv := get(h, schemas.HeaderSpecVersion); sv != "1.0" {
		return r, fmt.Errorf("%w: ce-specversion %q, want 1.0", ErrMalformed, sv)
	}
	// The CloudEvents 1.0 required attributes, checked as the spec (and
	// sdk-go's Validate, see doc.go) does: id and source non-empty, source
	// a URI-reference; type is checked for the one dqm accepts.
	if strings.TrimSpace(r.ID) == "" {
		return r, fmt.Errorf("%w: ce-id: required, a non-empty string", ErrMalformed)
	}
	if strings.TrimSpace(r.Source) == "" {
		return r, fmt.Errorf("%w: ce-source: required, a non-empty URI-reference", ErrMalformed)
	}
	if _, err := url.Parse(r.Source); err != nil {
		return r, fmt.Errorf("%w: ce-source %q is not a URI-reference", ErrMalformed, r.Source)
	}
	if t := get(h, schemas.HeaderTime); t != "" {
		tm, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return r, fmt.Errorf("%w: ce-time %q is not RFC 3339", ErrMalformed, t)
		}
		r.Time = tm
	}
	if typ := get(h, schemas.HeaderType); typ != schemas.TypeQueryRequest {
		return r, fmt.Errorf("%w: ce-type %q, want %s", ErrMalformed, typ, schemas.TypeQueryRequest)
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

// NewReply builds the reply message for a request.
func NewReply(replyTo, requestID, source string, body []byte) *nats.Msg {
	h := nats.Header{
		schemas.HeaderSpecVersion: specVersion,
		schemas.HeaderType:        resultType,
		schemas.HeaderSource:      {source},
		schemas.HeaderID:          {requestID + "-r"},
		schemas.HeaderRequestID:   {requestID},
		schemas.HeaderContentType: contentJSON,
	}
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
