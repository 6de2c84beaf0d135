package schemas

// CloudEvent types. Versioned types stay compatible; a breaking change gets
// a new version.
const (
	TypeQueryRequest = "io.dqm.query.request.v1"
	TypeQueryResult  = "io.dqm.query.result.v1"
	TypeChange       = "io.dqm.change.v1"
	// TypeInvalidation is the event on dqm.<name>.invalidate.<table>; its
	// data is an Invalidation.
	TypeInvalidation = "io.dqm.invalidation.v1"
	// TypeWatermark is the event on dqm.<name>.invalidate._dqm.watermark;
	// its data is a Watermark.
	TypeWatermark = "io.dqm.invalidation.watermark.v1"
)

// NATS header names of binary-mode CloudEvents and dqm's own headers.
const (
	HeaderSpecVersion = "ce-specversion"
	HeaderType        = "ce-type"
	HeaderSource      = "ce-source"
	HeaderID          = "ce-id"
	HeaderTime        = "ce-time"
	HeaderSubject     = "ce-subject"
	HeaderDeadline    = "ce-dqmdeadline"
	HeaderRequestID   = "ce-dqmrequestid"
	HeaderContentType = "content-type"
	HeaderReplyTo     = "Dqm-Reply-To"
	HeaderMsgID       = "Nats-Msg-Id"

	// HeaderReplyToCE is the reply inbox as a CloudEvents extension
	// attribute, for requesters that set it through a CloudEvents SDK;
	// HeaderReplyTo wins when both are present.
	HeaderReplyToCE = "ce-dqmreplyto"
)

// Extension attribute names (the header names without "ce-").
const (
	ExtDeadline  = "dqmdeadline"
	ExtRequestID = "dqmrequestid"
)

// The CloudEvents distributed-tracing extension (W3C trace context) and
// the structured content mode (CONTRACT §2).
const (
	HeaderTraceParent = "ce-traceparent"
	HeaderTraceState  = "ce-tracestate"
	// HeaderDataContentType is where sdk-go's NATS binding writes
	// datacontenttype in binary mode; content-type is read first.
	HeaderDataContentType = "ce-datacontenttype"
	// ContentTypeStructured is the content-type of a structured-mode
	// event: the whole event, attributes and data, as JSON in the body.
	ContentTypeStructured = "application/cloudevents+json"
)
