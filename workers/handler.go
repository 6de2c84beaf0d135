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

// The request path is two chains of small steps (chain.go lists them),
// in the shape of watermill's router. The first takes every message as
// a request: it admits, answers and settles it. Its last step, resolve,
// binds the request to its catalog entry, and the second chain works on
// that binding (a call), handed from step to step as an argument: no
// step after resolve finds its input in a field that another set.

// handler answers one request; a middleware wraps it with one step that
// may answer without calling next (a refusal), change the context next
// gets, or look at next's result.
type handler func(ctx context.Context, r *request) *result

// runner runs a request bound to its entry; the innermost, execute, runs
// the statements.
type runner func(ctx context.Context, r *request, c call) *result

// step is one named middleware of a chain of H (handler or runner).
type step[H any] struct {
	name string
	wrap func(next H) H
}

// build wraps h in steps, the first outermost: build(h, a, b) is a(b(h)).
func build[H any](h H, steps []step[H]) H {
	for i := len(steps) - 1; i >= 0; i-- {
		h = steps[i].wrap(h)
	}
	return h
}

// message is what the chain needs of a request message: a jetstream.Msg
// pulled from a queue, or a core NATS request on the direct lane
// (direct.go), whose settling means something else there.
type message interface {
	Subject() string
	Headers() nats.Header
	Data() []byte
	// Metadata is the JetStream delivery (dead letters); an error when
	// the message did not come through a stream.
	Metadata() (*jetstream.MsgMetadata, error)
	Ack() error
	Nak() error
	NakWithDelay(delay time.Duration) error
	Term() error
	InProgress() error
}

var _ message = jetstream.Msg(nil)

// request is one message on its way through the first chain.
type request struct {
	msg    message
	tag    string    // the consumer's tag it was pulled from; schemas.Direct on the direct lane
	pulled time.Time // when the worker took it

	// direct is msg on the direct lane (nil for a queue's message): its
	// reply goes to the request's NATS reply subject, which decode makes
	// the event's ReplyTo (ce-dqmreplyto is not used there), so guard
	// checks it as it checks an inbox.
	direct *directMsg

	event     *wire.Request // decode: never nil after it, partial when malformed
	malformed error         // decode: why the message is not a valid request

	// What recovery needs to know when a step panics: whether the
	// requester has its answer (respond) and the message its fate
	// (settle).
	replied, settled bool
}

// call is a request bound to its catalog entry: resolve's output, the
// argument of every step after it.
type call struct {
	query  *catalog.Query
	values params.Values
	stmts  []engines.Statement // the entry's statements, arguments bound
	// record is the body hash idempotency binds the request id to; when
	// set, execute records the id first and the outcome last in the
	// write's own transaction.
	record string
}

// settlement is what becomes of the message once a request is handled.
type settlement int

const (
	// ack: answered; the message is done.
	ack settlement = iota
	// redeliver: NAK, so JetStream delivers it again: the landing bound
	// cancelled it, or its reply could not be published for a cause
	// outside the request (the connection).
	redeliver
	// terminate: never delivered again and not answered normally: its
	// reply subject is not allowed, or handling it panicked.
	terminate
)

// result is a handler's outcome: what the requester is told and what
// becomes of the message.
type result struct {
	reply *schemas.Result // nil: no reply
	// body is reply already encoded (an idempotent write's outcome, as
	// its transaction recorded it); nil: respond encodes reply.
	body   []byte
	err    error // the failure behind reply, for retry and logs
	settle settlement
	reason string // why it is redelivered or terminated: log attr and metrics label
}

// failure is the result for a request that fails with err.
func failure(r *request, err error) *result {
	db, ref := "", int64(0)
	if r.event != nil {
		db, ref = r.event.Database, r.event.Data.QueryRef
	}
	return &result{reply: schemas.Failure(db, ref, err), err: err}
}
