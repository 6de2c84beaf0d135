package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/ingress"
	"github.com/dqmhq/dqm/internal/catalog"
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/internal/server"
	"github.com/dqmhq/dqm/schemas"
)

// scenarioTimeout bounds one scenario (warm-up included); a stalled path
// ends with errors instead of hanging the run.
const scenarioTimeout = 60 * time.Second

// op is one request; w is the load goroutine (0..c-1), i the request's
// index in the scenario.
type op func(ctx context.Context, w, i int) error

// stats are one scenario's measurements: the median run by throughput,
// with the spread of all runs and per-request costs over all of them.
type stats struct {
	n, c     int
	runs     int
	elapsed  time.Duration
	p50, p99 time.Duration
	// worst is the slowest request of all runs: a stall shows here even
	// when it is not in the median run.
	worst  time.Duration
	errors int
	// errorsAll counts the errors of all runs.
	errorsAll int
	firstErr  error
	// minRPS and maxRPS are the slowest and fastest runs.
	minRPS, maxRPS float64
	// cpu is this process's CPU time (user + system) per request: client,
	// NATS, dqm, and the database only for SQLite.
	cpu time.Duration
	// allocs are this process's heap allocations per request.
	allocs float64
}

// rps is the throughput of successful requests.
func (s stats) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.n-s.errors) / s.elapsed.Seconds()
}

func (s stats) errNote() string {
	if s.errorsAll == 0 {
		return ""
	}
	return fmt.Sprintf("  (%d errors; first: %v)", s.errorsAll, s.firstErr)
}

// allErrors counts the errors of every run, not only the median one.
func (s stats) allErrors() int { return s.errorsAll }

// scenario is a path to measure and the result it goes into.
type scenario struct {
	res        result
	n, c, warm int
	fn         op
}

// atC is a scenario at the bench's concurrency.
func (b *bench) atC(res result, fn op) scenario {
	if res.section == "" {
		res.section = secThroughput
	}
	return scenario{res: res, n: b.o.n, c: b.o.c, warm: b.o.warmup, fn: fn}
}

// oneByOne is a scenario of one request at a time.
func (b *bench) oneByOne(res result, fn op) scenario {
	if res.section == "" {
		res.section = secSequential
	}
	return scenario{res: res, n: b.o.seq, c: 1, warm: min(b.o.warmup, 200), fn: fn}
}

// measureAll warms every scenario up, then runs them in turn, -runs
// rounds, so that each path sees the machine in the same states, and
// records each scenario's median run.
func (b *bench) measureAll(ctx context.Context, scs []scenario) {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout*time.Duration(len(scs)))
	defer cancel()
	for _, sc := range scs {
		if sc.warm > 0 {
			load(ctx, sc.warm, sc.c, sc.fn)
		}
	}
	runs := make([][]stats, len(scs))
	for range b.o.runs {
		for i, sc := range scs {
			runs[i] = append(runs[i], once(ctx, sc.n, sc.c, sc.fn))
		}
	}
	for i, sc := range scs {
		sc.res.stats = median(runs[i])
		b.record(sc.res)
	}
}

// once is one run, with this process's CPU time and allocations.
func once(ctx context.Context, n, c int, fn op) stats {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	st := load(ctx, n, c, fn)
	st.cpu = (cpuTime() - cpu0) / time.Duration(n)
	runtime.ReadMemStats(&m1)
	st.allocs = float64(m1.Mallocs-m0.Mallocs) / float64(n)
	return st
}

// median is the median run by throughput, with the spread of all runs and
// their mean CPU time and allocations per request.
func median(all []stats) stats {
	slices.SortFunc(all, func(a, b stats) int { return cmp.Compare(a.rps(), b.rps()) })
	st := all[len(all)/2]
	st.runs = len(all)
	st.minRPS, st.maxRPS = all[0].rps(), all[len(all)-1].rps()
	var cpu time.Duration
	var allocs float64
	for _, r := range all {
		cpu += r.cpu
		allocs += r.allocs
		st.worst = max(st.worst, r.worst)
		st.errorsAll += r.errors
		if st.firstErr == nil {
			st.firstErr = r.firstErr
		}
	}
	st.cpu = cpu / time.Duration(len(all))
	st.allocs = allocs / float64(len(all))
	return st
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func load(ctx context.Context, n, c int, fn op) stats {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	st := stats{n: n, c: c}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				err := fn(ctx, w, i)
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					st.errors++
					if st.firstErr == nil {
						st.firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	slices.Sort(lat)
	st.p50, st.p99 = percentile(lat, 50), percentile(lat, 99)
	if len(lat) > 0 {
		st.worst = lat[len(lat)-1]
	}
	return st
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(k, len(sorted)-1))]
}

// --- dqm in-process.

// benchDB is the name of the bench's database in dqm.
const benchDB = "bench"

// Catalog refs: 2 and 55 as in the demo database.
const (
	refPoint = 2
	refRange = 55
)

// writeCatalog writes the bench's catalog file: the point query on the
// fast queue, and the demo's range query ref 55 on the slow queue as the
// demo has it.
func writeCatalog(dir string) (string, error) {
	path := filepath.Join(dir, "catalog.json")
	es := []catalog.Entry{
		{Ref: refPoint, Name: "one number", SQL: pointSQL, Queue: schemas.TagFast, Public: true, Tables: []string{"numbers"}},
		{Ref: refRange, Name: "numbers range", SQL: rangeSQL, Queue: schemas.TagSlow, Public: true, TimeoutMS: 5000, Tables: []string{"numbers"}},
	}
	b, err := json.MarshalIndent(es, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, b, 0o644)
}

// dqm is a running instance serving the bench's database.
type dqm struct {
	s      *server.Server
	client *ingress.Client
	url    string
	points []schemas.Params
	bodies [][]byte
	hc     []*http.Client
}

// startDQM runs an instance whose fast queue has workers workers (min =
// max) and whose slow queue has one, and waits until they all run.
func startDQM(ctx context.Context, dir string, fx *fixture, workers int, log *slog.Logger) (*dqm, error) {
	cat, err := writeCatalog(dir)
	if err != nil {
		return nil, err
	}
	cfg := config.Demo()
	cfg.NATS.Listen = "127.0.0.1:0"
	cfg.NATS.StoreDir = filepath.Join(dir, fmt.Sprintf("nats-%s-%d", fx.engine, workers))
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Log.Level = "warn"
	db := *cfg.Databases["demo"] // the per-database defaults
	db.Name = benchDB
	db.Engine = fx.engine
	db.DSN = config.DSN(fx.dsn)
	db.Catalog = config.Catalog{Table: "queries", ManageTables: true, File: cat}
	db.Queues = map[string]config.Queue{
		schemas.TagFast: {Min: workers, Max: workers},
		schemas.TagSlow: {Min: 1, Max: 1},
	}
	db.Triggers = config.Triggers{Tables: []string{}, PollMS: 1000}
	cfg.Databases = map[string]*config.Database{benchDB: &db}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := server.Start(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	d := &dqm{s: s, client: s.Client(), url: "http://" + s.HTTPAddr() + "/api/conduit/query"}
	ready := func() bool {
		l := s.Lead(benchDB)
		return s.Ready() && l.Workers(schemas.TagFast) == workers && l.Workers(schemas.TagSlow) == 1
	}
	if err := poll(ctx, 30*time.Second, ready); err != nil {
		d.stop()
		return nil, fmt.Errorf("not ready: %w", err)
	}
	// A ring of requests over the table, built once: the bench measures
	// dqm, not the building of parameter maps.
	for i := range 1024 {
		n := strconv.Itoa(numberOf(i))
		d.points = append(d.points, schemas.Params{"INTEGER": {"N": json.RawMessage(n)}})
		d.bodies = append(d.bodies, []byte(`{"query_ref":2,"database":"bench","params":{"INTEGER":{"N":`+n+`}}}`))
	}
	return d, nil
}

// poll waits until cond holds, up to d.
func poll(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func (d *dqm) stop() {
	for _, c := range d.hc {
		c.CloseIdleConnections()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d.s.Shutdown(ctx)
}

func (d *dqm) clientPointOp() op {
	return func(ctx context.Context, _, i int) error {
		res, err := d.client.Query(ctx, benchDB, refPoint, d.points[i%len(d.points)], ingress.Queue(schemas.TagFast))
		if err != nil {
			return err
		}
		if res.RowCount != 1 {
			return fmt.Errorf("point query: %d rows", res.RowCount)
		}
		return nil
	}
}

var rangeParams = schemas.Params{"INTEGER": {
	"START":  json.RawMessage(strconv.Itoa(rangeLo)),
	"FINISH": json.RawMessage(strconv.Itoa(rangeHi)),
}}

func (d *dqm) clientRangeOp() op {
	return func(ctx context.Context, _, _ int) error {
		res, err := d.client.Query(ctx, benchDB, refRange, rangeParams, ingress.Queue(schemas.TagSlow))
		if err != nil {
			return err
		}
		if res.RowCount != rangeRows {
			return fmt.Errorf("range query: %d rows", res.RowCount)
		}
		return nil
	}
}

// httpClient is a keep-alive client for c concurrent requests.
func (d *dqm) httpClient(c int) *http.Client {
	hc := &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        c,
			MaxIdleConnsPerHost: c,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
	d.hc = append(d.hc, hc)
	return hc
}

// rest posts body and checks for a 200 success reply; buf is the load
// goroutine's own.
func rest(ctx context.Context, hc *http.Client, url string, body []byte, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(buf.Bytes(), []byte(`{"success":true`)) {
		return fmt.Errorf("REST %d: %.200s", resp.StatusCode, buf.Bytes())
	}
	return nil
}

func (d *dqm) restPointOp(c int) op {
	hc := d.httpClient(c)
	bufs := make([]bytes.Buffer, c)
	return func(ctx context.Context, w, i int) error {
		return rest(ctx, hc, d.url, d.bodies[i%len(d.bodies)], &bufs[w])
	}
}

func (d *dqm) restRangeOp() op {
	hc := d.httpClient(1)
	var buf bytes.Buffer
	body := []byte(fmt.Sprintf(`{"query_ref":%d,"database":"bench","params":{"INTEGER":{"START":%d,"FINISH":%d}}}`, refRange, rangeLo, rangeHi))
	return func(ctx context.Context, _, _ int) error {
		if err := rest(ctx, hc, d.url, body, &buf); err != nil {
			return err
		}
		if !bytes.Contains(buf.Bytes(), []byte(`"row_count":101`)) {
			return fmt.Errorf("range query: %.200s", buf.Bytes())
		}
		return nil
	}
}

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
		tput = append(tput, b.atC(res, fn))
		if m == inProcess {
			seq = append(seq, b.oneByOne(res, fn))
		}
	}
	echo := func(_ int, _ []byte, buf []byte) ([]byte, error) { return append(buf, replyData...), nil }
	w := b.o.workers[0]
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
		tput = append(tput, b.atC(res, fn))
		if l == (jsOptions{conn: inProcess, storage: jetstream.FileStorage}) {
			seq = append(seq, b.oneByOne(res, fn))
		}
	}
	b.measureAll(ctx, tput)
	b.measureAll(ctx, seq)
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
	// The stream and consumer as lead.EnsureStream makes them.
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
		msg.Data = data(i)
		if _, err := l.js.PublishMsg(ctx, msg); err != nil {
			return err
		}
		select {
		case r := <-ch:
			if bytes.HasPrefix(r.Data, []byte(`{"success":false`)) {
				return errors.New("responder failed")
			}
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
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

// jetstreamDriver is a jetstream loop, on an embedded server of its own,
// whose responders run the point query with the direct driver, one
// connection each: everything dqm does minus dqm's own code.
func (b *bench) jetstreamDriver(ctx context.Context, fx *fixture, responders int) (op, func(), error) {
	ns, err := server.StartEmbedded("127.0.0.1:0", filepath.Join(b.dir, "nats-js-"+fx.engine))
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
	nums := make([][]byte, 1024)
	for i := range nums {
		nums[i] = []byte(strconv.Itoa(numberOf(i)))
	}
	stop := func() {
		l.stop()
		drv.close()
		stopNS()
	}
	return l.op(func(i int) []byte { return nums[i%len(nums)] }), stop, nil
}
