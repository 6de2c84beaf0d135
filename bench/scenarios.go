package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/internal/server"
)

// --- NATS baselines: no dqm, no database.

// Payloads the size of dqm's: a request's data and a point query's reply.
var (
	requestData = []byte(`{"query_ref":2,"params":{"INTEGER":{"N":1234}}}`)
	replyData   = []byte(`{"success":true,"query_ref":2,"database":"bench","rows":[{"numbers":1234}],"row_count":1,"column_count":1,"execution_time_ms":0,"queue_used":"fast","cached":false,"status":200}`)
)

// connMode is how a baseline's requester and responders reach NATS.
type connMode int

const (
	inProcess       connMode = iota // two in-process connections: requester, responders
	inProcessShared                 // one in-process connection for both, as a dqm instance does
	loopbackTCP                     // two connections over 127.0.0.1
)

func (m connMode) String() string {
	return [...]string{"in-process", "in-process, one shared conn", "loopback TCP"}[m]
}

func connect(ns *natsserver.Server, m connMode, name string) (*nats.Conn, error) {
	if m == loopbackTCP {
		return nats.Connect(ns.ClientURL(), nats.Name(name))
	}
	return nats.Connect(ns.ClientURL(), nats.Name(name), nats.InProcessServer(ns))
}

// conns returns the requester's and the responders' connections.
func conns(ns *natsserver.Server, m connMode) (req, resp *nats.Conn, closeAll func(), err error) {
	if req, err = connect(ns, m, "bench requester"); err != nil {
		return nil, nil, nil, err
	}
	if m == inProcessShared {
		return req, req, func() { req.Close() }, nil
	}
	if resp, err = connect(ns, m, "bench responder"); err != nil {
		req.Close()
		return nil, nil, nil, err
	}
	return req, resp, func() { req.Close(); resp.Close() }, nil
}

// baselines measures core NATS and JetStream with no database on an
// embedded server configured as dqm's.
func (b *bench) baselines(ctx context.Context) error {
	fmt.Fprintln(b.progress, "== baselines")
	ns, err := server.StartEmbedded("127.0.0.1:0", filepath.Join(b.dir, "nats-baseline"))
	if err != nil {
		return err
	}
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	var tput, seq []scenario
	for _, m := range []connMode{inProcess, loopbackTCP} {
		fn, stop, err := coreEcho(ns, m)
		if err != nil {
			return fmt.Errorf("core NATS (%s): %w", m, err)
		}
		defer stop()
		res := result{section: secBaseline, path: pathCoreNATS, conn: m.String()}
		tput = append(tput, b.at(res, b.o.maxC, fn))
		if m == inProcess && b.o.maxC > 1 {
			seq = append(seq, b.at(res, 1, fn))
		}
	}
	echo := func(_ int, _ []byte, buf []byte) ([]byte, error) { return append(buf, replyData...), nil }
	w := b.o.workers
	for _, l := range []jsOptions{
		{conn: inProcess, storage: jetstream.FileStorage},
		{conn: inProcessShared, storage: jetstream.FileStorage},
		{conn: loopbackTCP, storage: jetstream.FileStorage},
		{conn: inProcess, storage: jetstream.MemoryStorage},
	} {
		loop, err := startJSLoop(ctx, ns, l, w, echo)
		if err != nil {
			return fmt.Errorf("jetstream (%s): %w", l, err)
		}
		defer loop.stop()
		fn := loop.op(func(int) []byte { return requestData })
		res := result{section: secBaseline, path: pathJetStream, conn: l.String(), workers: w}
		tput = append(tput, b.at(res, b.o.maxC, fn))
		if l == (jsOptions{conn: inProcess, storage: jetstream.FileStorage}) && b.o.maxC > 1 {
			seq = append(seq, b.at(res, 1, fn))
		}
	}
	b.measureAll(ctx, tput)
	if len(seq) > 0 {
		b.measureAll(ctx, seq)
	}
	return nil
}

// coreEcho is core NATS request/reply to an echo responder.
func coreEcho(ns *natsserver.Server, m connMode) (op, func(), error) {
	req, resp, closeAll, err := conns(ns, m)
	if err != nil {
		return nil, nil, err
	}
	if _, err := resp.Subscribe("bench.echo", func(msg *nats.Msg) { msg.Respond(replyData) }); err != nil {
		closeAll()
		return nil, nil, err
	}
	if err := resp.Flush(); err != nil {
		closeAll()
		return nil, nil, err
	}
	fn := func(ctx context.Context, _, _ int) error {
		_, err := req.RequestWithContext(ctx, "bench.echo", requestData)
		return err
	}
	return fn, closeAll, nil
}

// jsOptions say how a JetStream loop is built.
type jsOptions struct {
	conn    connMode
	storage jetstream.StorageType
}

func (o jsOptions) String() string {
	if o.storage == jetstream.MemoryStorage {
		return o.conn.String() + ", memory storage"
	}
	return o.conn.String()
}

// fastBatch is how many messages a responder pulls at once: dqm's fast
// queue's batch.
const fastBatch = 8

// replyHeader carries the requester's inbox, as dqm's ce-replyto does.
const replyHeader = "Bench-Reply"

// jsLoop is dqm's pipeline with nothing of dqm: a WorkQueue stream, a
// durable pull consumer served by responders that reply to the inbox in a
// header and ack, and a requester with one wildcard reply subscription.
type jsLoop struct {
	js      jetstream.JetStream
	subject string
	prefix  string
	closeNC func()
	mu      sync.Mutex
	pending map[string]chan *nats.Msg
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// handler makes responder w's reply to data, appending to buf.
type handler func(w int, data, buf []byte) ([]byte, error)

// loops numbers the loops' streams.
var loops atomic.Int64

func startJSLoop(ctx context.Context, ns *natsserver.Server, o jsOptions, responders int, h handler) (*jsLoop, error) {
	req, resp, closeAll, err := conns(ns, o.conn)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("BENCH%d", loops.Add(1))
	l := &jsLoop{subject: "bench." + name + ".fast", closeNC: closeAll, pending: map[string]chan *nats.Msg{}}
	fail := func(err error) (*jsLoop, error) {
		l.stop()
		return nil, err
	}
	if l.js, err = jetstream.New(req); err != nil {
		return fail(err)
	}
	// The stream and consumer as internal/topology declares them.
	st, err := l.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: name, Subjects: []string{l.subject}, Retention: jetstream.WorkQueuePolicy,
		MaxMsgsPerSubject: 10000, Discard: jetstream.DiscardNew, DiscardNewPerSubject: true,
		Duplicates: 2 * time.Minute, Storage: o.storage,
	})
	if err != nil {
		return fail(err)
	}
	if _, err := st.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "fast", FilterSubject: l.subject, AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: time.Minute, MaxDeliver: 5, MaxAckPending: 1000,
	}); err != nil {
		return fail(err)
	}
	l.prefix = nats.NewInbox() + "."
	_, err = req.Subscribe(l.prefix+"*", func(msg *nats.Msg) {
		id := msg.Subject[len(l.prefix):]
		l.mu.Lock()
		ch := l.pending[id]
		delete(l.pending, id)
		l.mu.Unlock()
		if ch != nil {
			ch <- msg
		}
	})
	if err != nil {
		return fail(err)
	}
	rjs, err := jetstream.New(resp)
	if err != nil {
		return fail(err)
	}
	cons, err := rjs.Consumer(ctx, name, "fast")
	if err != nil {
		return fail(err)
	}
	var rctx context.Context
	rctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for w := range responders {
		it, err := cons.Messages(jetstream.PullMaxMessages(fastBatch))
		if err != nil {
			return fail(err)
		}
		context.AfterFunc(rctx, it.Stop)
		l.wg.Go(func() { l.respond(rctx, w, it, resp, h) })
	}
	return l, nil
}

// respond is one responder: like a dqm worker, it replies, then acks.
func (l *jsLoop) respond(ctx context.Context, w int, it jetstream.MessagesContext, nc *nats.Conn, h handler) {
	var buf []byte
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
				return
			}
			continue
		}
		out, err := h(w, msg.Data(), buf[:0])
		if err != nil {
			out = append(buf[:0], `{"success":false}`...)
		}
		buf = out
		nc.Publish(msg.Headers().Get(replyHeader), out)
		msg.Ack()
	}
}

// op publishes the request built by data(i) and awaits its reply.
func (l *jsLoop) op(data func(i int) []byte) op {
	return func(ctx context.Context, _, i int) error {
		_, err := l.request(ctx, data(i))
		return err
	}
}

// request publishes data and returns the responder's reply.
func (l *jsLoop) request(ctx context.Context, data []byte) ([]byte, error) {
	id := nuid.Next()
	ch := make(chan *nats.Msg, 1)
	l.mu.Lock()
	l.pending[id] = ch
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.pending, id)
		l.mu.Unlock()
	}()
	msg := nats.NewMsg(l.subject)
	msg.Header.Set(jetstream.MsgIDHeader, id)
	msg.Header.Set(replyHeader, l.prefix+id)
	msg.Data = data
	if _, err := l.js.PublishMsg(ctx, msg); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if bytes.HasPrefix(r.Data, []byte(`{"success":false`)) {
			return nil, errors.New("responder failed")
		}
		return r.Data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stop ends the responders and closes the connections.
func (l *jsLoop) stop() {
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	l.closeNC()
}

// idealLoop is a jetstream loop, on an embedded server of its own, whose
// responders run the bench's queries with the direct driver, one
// connection each, and reply with JSON rows: everything dqm does minus
// dqm's own code. A request's data is N for the point query, "R" for the
// range query.
func (b *bench) idealLoop(ctx context.Context, fx *fixture, responders int) (*jsLoop, func(), error) {
	ns, err := server.StartEmbedded("127.0.0.1:0", filepath.Join(b.dir, "nats-ideal-"+fx.engine))
	if err != nil {
		return nil, nil, err
	}
	stopNS := func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	drv, err := fx.open(ctx, responders)
	if err != nil {
		stopNS()
		return nil, nil, err
	}
	h := func(w int, data, buf []byte) ([]byte, error) {
		if string(data) == "R" {
			buf = append(buf, `{"success":true,"rows":[`...)
			buf, err := drv.rangeAppend(ctx, w, buf)
			if err != nil {
				return nil, err
			}
			return append(buf, `],"row_count":101}`...), nil
		}
		n, err := strconv.Atoi(string(data))
		if err != nil {
			return nil, err
		}
		if err := drv.point(ctx, w, n); err != nil {
			return nil, err
		}
		buf = append(buf, `{"success":true,"rows":[{"numbers":`...)
		buf = strconv.AppendInt(buf, int64(n), 10)
		return append(buf, `}],"row_count":1}`...), nil
	}
	l, err := startJSLoop(ctx, ns, jsOptions{conn: inProcess, storage: jetstream.FileStorage}, responders, h)
	if err != nil {
		drv.close()
		stopNS()
		return nil, nil, err
	}
	stop := func() {
		l.stop()
		drv.close()
		stopNS()
	}
	return l, stop, nil
}

// idealData are the ideal loop's requests of a query, by index.
func idealData(query string) func(i int) []byte {
	if query == qRange {
		r := []byte("R")
		return func(int) []byte { return r }
	}
	nums := make([][]byte, ringSize)
	for i := range nums {
		nums[i] = []byte(strconv.Itoa(numberOf(i)))
	}
	return func(i int) []byte { return nums[i%len(nums)] }
}
