package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// engine measures one engine: every path at once (the direct driver, the
// ideal loop and its HTTP front, the HTTP floor, the dqm instances), so
// that their runs can alternate and a busy moment of the machine hits each
// path alike; per query and concurrency.
func (b *bench) engine(ctx context.Context, name string) error {
	fmt.Fprintf(b.progress, "%6.1fs == %s\n", time.Since(b.started).Seconds(), name)
	fx, err := fixtures[name](ctx, b.dir)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer fx.close()
	o := b.o

	drv, err := fx.open(ctx, o.maxC)
	if err != nil {
		return fmt.Errorf("direct driver: %w", err)
	}
	defer drv.close()

	// The ideal pipeline, bare and behind net/http.
	var idealURL string
	loop, stopLoop, err := b.idealLoop(ctx, fx, o.workers)
	if err != nil {
		b.rep.note("%s: ideal loop: %v", name, err)
	} else {
		defer stopLoop()
		url, stop, err := serveHTTP(idealHandler(loop))
		if err != nil {
			b.rep.note("%s: ideal_http: %v", name, err)
		} else {
			defer stop()
			idealURL = url
		}
	}
	floorURL, stopFloor, err := serveHTTP(floorHandler())
	if err != nil {
		b.rep.note("%s: http_floor: %v", name, err)
	} else {
		defer stopFloor()
	}

	var targets []*target
	for _, m := range b.targetModes() {
		t, err := b.startTarget(ctx, m, fx)
		if err != nil {
			// The other paths are still worth measuring.
			b.rep.note("%s: dqm (%s) did not start: %v", name, m, err)
			continue
		}
		defer t.stop()
		if err := b.warmCaches(ctx, t); err != nil {
			b.rep.note("%s: warming dqm's caches (%s): %v", name, m, err)
		}
		targets = append(targets, t)
	}

	for _, q := range o.queries {
		for _, c := range o.conc {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var hcs []*http.Client
			newHC := func() *http.Client {
				hc := httpClient(c)
				hcs = append(hcs, hc)
				return hc
			}
			row := func(path, mode string) result {
				return result{section: secRows, engine: name, mode: mode, query: q, path: path, stats: stats{c: c}}
			}
			directOp := drv.pointOp()
			if q == qRange {
				directOp = drv.rangeOp()
			}
			scs := []scenario{{res: row(pathDirect, modeInProcess), fn: directOp}}
			if loop != nil {
				res := row(pathIdeal, modeInProcess)
				res.workers = o.workers
				scs = append(scs, scenario{res: res, fn: loop.op(idealData(q)), profile: fmt.Sprintf("%s-%s-%s-c%d", name, q, pathIdeal, c)})
			}
			if idealURL != "" {
				res := row(pathIdealHTTP, modeInProcess)
				res.workers = o.workers
				scs = append(scs, scenario{res: res, fn: restOp(newHC(), idealURL, q, restBodies(q, refOf(q, false)), c),
					profile: fmt.Sprintf("%s-%s-%s-c%d", name, q, pathIdealHTTP, c)})
			}
			if floorURL != "" {
				scs = append(scs, scenario{res: row(pathFloor, modeInProcess), fn: restOp(newHC(), floorURL+"/"+q, q, restBodies(q, refOf(q, false)), c)})
			}
			for _, t := range targets {
				dq := func(path string, fn op) scenario {
					sc := scenario{res: row(path, t.mode), fn: fn, rssPID: t.pid}
					sc.res.workers = o.workers
					if t.external {
						sc.extPID = t.pid
					} else {
						sc.profile = fmt.Sprintf("%s-%s-%s-c%d", name, q, path, c)
					}
					return sc
				}
				if isClusterMode(t.mode) {
					// What replication costs: the uncached paths only.
					scs = append(scs, dq(pathClient, clientOp(t.client, q, false)),
						dq(pathREST, restOp(newHC(), t.url, q, restBodies(q, refOf(q, false)), c)))
					continue
				}
				scs = append(scs,
					dq(pathClient, clientOp(t.client, q, false)),
					dq(pathClientDirect, laneOp(t.client, q)),
					dq(pathClientCached, clientOp(t.cached, q, true)),
					dq(pathREST, restOp(newHC(), t.url, q, restBodies(q, refOf(q, false)), c)),
					dq(pathRESTDirect, restOp(newHC(), t.url, q, restBodies(q, directRefOf(q)), c)),
					dq(pathRESTCached, restOp(newHC(), t.url, q, restBodies(q, refOf(q, true)), c)))
			}
			b.measureAll(ctx, o.selected(scs))
			for _, hc := range hcs {
				hc.CloseIdleConnections()
			}
		}
	}
	// The memory and soak runs are about dqm, not replication.
	b.afterRows(ctx, name, slices.DeleteFunc(targets, func(t *target) bool { return isClusterMode(t.mode) }))
	return nil
}

// refOf is the catalog entry of a query, uncached or cache-tag.
func refOf(query string, cached bool) int {
	switch {
	case query == qRange && cached:
		return refRangeCached
	case query == qRange:
		return refRange
	case cached:
		return refPointCached
	}
	return refPoint
}

// directRefOf is the direct-lane twin of a query's entry.
func directRefOf(query string) int {
	if query == qRange {
		return refRangeDirect
	}
	return refPointDirect
}

func (b *bench) startTarget(ctx context.Context, mode string, fx *fixture) (*target, error) {
	if isClusterMode(mode) {
		return startClusterTarget(ctx, mode, b.dir, fx, b.o.workers, b.log)
	}
	if mode == modeExternal {
		if b.dqmBin == "" {
			return nil, errors.New("the dqm binary was not built")
		}
		return startExternal(ctx, b.dqmBin, b.dir, fx, b.o.workers, b.progress)
	}
	return startInProcess(ctx, b.dir, fx, b.o.workers, b.log)
}

// warmCaches fills the near-cache of t's cached client and t's instance
// cache with every request the cached rows send, so they measure hits.
func (b *bench) warmCaches(ctx context.Context, t *target) error {
	ctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
	defer cancel()
	const c = 8
	hc := httpClient(c)
	defer hc.CloseIdleConnections()
	for _, q := range []string{qPoint, qRange} {
		n := ringSize
		if q == qRange {
			n = 1
		}
		for _, fn := range []op{clientOp(t.cached, q, true), restOp(hc, t.url, q, restBodies(q, refOf(q, true)), c)} {
			if st := load(ctx, n, 0, c, fn); st.errors > 0 {
				return fmt.Errorf("%d errors, first: %w", st.errors, st.firstErr)
			}
		}
	}
	return nil
}

// serveHTTP serves h on a free loopback port with the bench's server
// settings and returns its base URL.
func serveHTTP(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := httpServer(h)
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// idealHandler is the ideal loop behind a minimal handler: read the body,
// take N out of it by hand (or "R" for a range request), publish, write
// the responder's reply as it came.
func idealHandler(l *jsLoop) http.Handler {
	failed := []byte(`{"success":false}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			w.Write(failed)
			return
		}
		data := []byte("R")
		if i := bytes.Index(body, []byte(`"N":`)); i >= 0 {
			j := i + len(`"N":`)
			k := j
			for k < len(body) && body[k] >= '0' && body[k] <= '9' {
				k++
			}
			data = body[j:k]
		}
		reply, err := l.request(r.Context(), data)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			w.Write(failed)
			return
		}
		w.Write(reply)
	})
}

// floorHandler is the least an HTTP reply can cost: read the body, write a
// fixed dqm-shaped reply (/point: one row; /range: the 101 rows).
func floorHandler() http.Handler {
	rng := []byte(`{"success":true,"query_ref":55,"database":"bench","rows":[`)
	for v := rangeLo; v <= rangeHi; v++ {
		rng = appendRow(rng, v == rangeLo, v)
	}
	rng = append(rng, `],"row_count":`+strconv.Itoa(rangeRows)+`,"column_count":1,"execution_time_ms":0,"queue_used":"fast","cached":false,"status":200}`...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/"+qRange {
			w.Write(rng)
			return
		}
		w.Write(replyData)
	})
}
