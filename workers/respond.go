package workers

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/schemas"
)

// respond publishes the reply, encoded once: a result that carries its
// body (an idempotent write's recorded outcome) is sent as it is. A reply
// over the NATS max payload is the request's own doing: it becomes a 413
// too_large that says by how much, and is acked, never re-run. Any other
// failure to publish (the connection) leaves the request for redelivery.
func (w *Worker) respond(next handler) handler {
	return func(ctx context.Context, r *request) *result {
		res := next(ctx, r)
		if res.reply == nil {
			return res
		}
		m := w.replyMsg(r, res)
		if max := w.cfg.NC.MaxPayload(); max > 0 && int64(msgSize(m)) > max {
			res = w.tooLarge(r, len(m.Data))
			m = w.replyMsg(r, res)
		}
		err := w.send(r, m, res.reply)
		if errors.Is(err, nats.ErrMaxPayload) {
			// Measured above against the same limit; this is a backstop
			// for a server whose limit shrank since we connected.
			res = w.tooLarge(r, len(m.Data))
			m = w.replyMsg(r, res)
			err = w.send(r, m, res.reply)
		}
		if err != nil {
			w.log.WarnContext(ctx, "reply failed; leaving request for redelivery", "request_id", r.event.ID, "err", err)
			return &result{reply: res.reply, err: err, settle: redeliver, reason: reasonReplyFailed}
		}
		r.replied = true
		return res
	}
}

// publish sends res as the request's reply (recovery's 500).
func (w *Worker) publish(r *request, res *result) error {
	return w.send(r, w.replyMsg(r, res), res.reply)
}

// send publishes a reply: on the worker's connection to the reply
// subject, or on the direct lane through its micro request (direct.go).
func (w *Worker) send(r *request, m *nats.Msg, reply *schemas.Result) error {
	if r.direct != nil {
		return r.direct.respond(m, reply)
	}
	return w.cfg.NC.PublishMsg(m)
}

// replyMsg is the reply message of res, its body encoded unless it was.
func (w *Worker) replyMsg(r *request, res *result) *nats.Msg {
	if res.body == nil {
		res.body = w.encode(r, res.reply)
	}
	return r.event.Reply(w.cfg.Source, res.body)
}

// encode writes a reply body: the queue that answered and the status
// are set here, for every reply and every recorded outcome alike.
func (w *Worker) encode(r *request, reply *schemas.Result) []byte {
	reply.QueueUsed = r.tag
	if reply.Status == 0 {
		reply.Status = reply.Error.Status()
	}
	return reply.AppendJSON(make([]byte, 0, 256+len(reply.Rows)))
}

// tooLarge is a 413 for a reply of n bytes.
func (w *Worker) tooLarge(r *request, n int) *result {
	return failure(r, schemas.Errorf(schemas.CodeTooLarge,
		fmt.Sprintf("result of %d bytes exceeds the NATS max payload of %d bytes", n, w.cfg.NC.MaxPayload())))
}

// msgSize is what nats.go counts against the max payload: data plus the
// encoded header block ("NATS/1.0\r\n", "k: v\r\n" per value, "\r\n").
func msgSize(m *nats.Msg) int {
	n := len(m.Data) + len("NATS/1.0\r\n\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(": \r\n") + len(v)
		}
	}
	return n
}
