package workers

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/params"
	"github.com/dqmhq/dqm/internal/wire"
	"github.com/dqmhq/dqm/schemas"
)

// Handler answers one request. The innermost handler runs the statements;
// every other step is a Middleware around it.
type Handler func(ctx context.Context, r *Request) *Result

// Middleware wraps a Handler with one step: it may answer without calling
// next (a refusal), change the context next gets, or look at next's Result.
type Middleware func(next Handler) Handler

// Chain wraps h in mws, the first outermost: Chain(h, a, b) is a(b(h)).
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Msg is what the chain needs of a request message: a jetstream.Msg
// pulled from a queue, or a core NATS request on the direct lane
// (direct.go), whose settling means something else there.
type Msg interface {
	Subject() string
	Headers() nats.Header
	Data() []byte
	// Metadata is the JetStream delivery (dead letters); an error when
	// the message did not come through a stream.
	Metadata() (*jetstream.MsgMetadata, error)
	Ack() error
	Nak() error
	Term() error
	InProgress() error
}

var _ Msg = jetstream.Msg(nil)

// Request is one message on its way through the chain; each step fills
// in what the later ones need.
type Request struct {
	Msg    Msg
	Tag    string    // the consumer's tag it was pulled from; schemas.Direct on the direct lane
	Pulled time.Time // when the worker took it

	Event     *wire.Request // decode: never nil after it, partial when Malformed
	Malformed error         // decode: why the message is not a valid request

	Query    *catalog.Query      // resolve
	Values   params.Values       // resolve
	Stmts    []engines.Statement // resolve; idempotency puts its record first and its outcome last
	OwnStmts int                 // leading statements that are dqm's own: their counts are not the client's
	OwnAfter int                 // trailing statements that are dqm's own (the outcome)
	BodyHash string              // idempotency: the write's ref and params, bound to its id

	// direct is Msg on the direct lane (nil for a queue's message): its
	// reply goes to the request's NATS reply subject, which decode makes
	// the event's ReplyTo (ce-dqmreplyto is not used there), so guard
	// checks it as it checks an inbox.
	direct *directMsg

	reply   *nats.Msg // encode: the reply message, published by reply
	replied bool      // reply: published
	settled bool      // ack: acked, NAKed or terminated
}

// Settle is what becomes of the message once a request is handled.
type Settle int

const (
	// Ack: answered; the message is done.
	Ack Settle = iota
	// Redeliver: NAK, so JetStream delivers it again now: the landing
	// bound cancelled it, or its reply could not be published for a cause
	// outside the request (the connection).
	Redeliver
	// Terminate: never delivered again and not answered normally: its
	// reply subject is not allowed, or handling it panicked.
	Terminate
)

// Result is a handler's outcome: what the requester is told and what
// becomes of the message.
type Result struct {
	Reply  *schemas.Result // nil: no reply
	Err    error           // the failure behind Reply, for retry and logs
	Settle Settle
	Reason string // why it is redelivered or terminated: log attr and metrics label
}

// failure is the Result for a request that fails with err.
func failure(r *Request, err error) *Result {
	db, ref := "", int64(0)
	if r.Event != nil {
		db, ref = r.Event.Database, r.Event.Data.QueryRef
	}
	return &Result{Reply: schemas.Failure(db, ref, err), Err: err}
}
