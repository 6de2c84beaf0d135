//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/schemas"
)

// outcome is how one HTTP attempt ended.
type outcome int

const (
	outOK       outcome = iota // 200, success
	outContract                // a contract error that says "try again": unavailable, timeout, queue_full
	outCut                     // the connection failed: the instance is down or was killed mid-request
	outHung                    // no answer before the deadline (plus slack): the defect the suite hunts
	outWrong                   // an answer that blames the caller or is not the contract's shape
)

// attempt is one HTTP request.
type attempt struct {
	start, end time.Time
	out        outcome
	write      bool
	inst       int // index of the dqm instance asked
}

// writeRec is one keyed write: its attempts share its Idempotency-Key.
type writeRec struct {
	key      string
	phase    string // the fault run it was issued in
	issued   time.Time
	acked    bool
	ackedAt  time.Time
	attempts int
}

// load drives keyed writes and reads of acknowledged keys against the dqm
// instances and records every attempt.
type load struct {
	dqms   []*dqmProc
	client *http.Client
	// goClient, if set, is a Go client (no WithDatabases: it learns
	// whether a database exists from JetStream) that one more reader
	// reads with, straight over NATS.
	goClient *client.Client
	phase    atomic.Pointer[string]

	mu       sync.Mutex
	attempts []attempt
	writes   []writeRec
	wrong    []string // what each wrong answer was (bounded)
	acked    []string // keys acknowledged, for the readers
	stale    int      // reads of an acknowledged key that saw no row or two
}

// slack is how long past a request's deadline an answer may take (the
// transport, a loaded machine) before the request counts as hung.
const slack = 3 * time.Second

// writeBudget is how long a writer retries one key before it gives up
// (then the write is unacknowledged: applied at most once, never lost).
const writeBudget = 60 * time.Second

func newLoad(dqms []*dqmProc) *load {
	l := &load{dqms: dqms, client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	l.setPhase("warmup")
	return l
}

func (l *load) setPhase(p string) { l.phase.Store(&p) }

// run starts writers and readers, each pacing itself by a ticker, until
// ctx ends; a writer then finishes the key it holds (retrying within its
// budget), so every key's fate is known when run returns.
func (l *load) run(ctx context.Context, writers, readers int, every time.Duration) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { l.writer(ctx, w, every) })
	}
	for r := range readers {
		wg.Go(func() { l.reader(ctx, r, every, false) })
	}
	if l.goClient != nil {
		wg.Go(func() { l.reader(ctx, readers, every, true) })
	}
	wg.Wait()
}

func (l *load) writer(ctx context.Context, w int, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for seq := 0; ctx.Err() == nil; seq++ {
		phase := *l.phase.Load()
		rec := writeRec{key: fmt.Sprintf("%s-w%d-%d", phase, w, seq), phase: phase, issued: time.Now()}
		// A retry goes to the other instance: the first may be down.
		for inst := w; time.Since(rec.issued) < writeBudget; inst++ {
			rec.attempts++
			out := l.call(l.dqms[inst%len(l.dqms)], refWrite, rec.key, true)
			if out == outOK {
				rec.acked, rec.ackedAt = true, time.Now()
				break
			}
			// Pace retries; a writer stopping still finishes its key.
			t := time.NewTimer(100 * time.Millisecond)
			<-t.C
		}
		l.mu.Lock()
		l.writes = append(l.writes, rec)
		if rec.acked {
			l.acked = append(l.acked, rec.key)
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

// reader reads back recently acknowledged keys: each must show exactly one
// row (an acknowledged write is committed, and once).
func (l *load) reader(ctx context.Context, r int, every time.Duration, goClient bool) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := r; ctx.Err() == nil; i++ {
		l.mu.Lock()
		key := ""
		if n := len(l.acked); n > 0 {
			key = l.acked[n-1-i%min(n, 50)]
		}
		l.mu.Unlock()
		switch {
		case key != "" && goClient:
			l.clientCall(key)
		case key != "":
			l.call(l.dqms[i%len(l.dqms)], refRead, key, false)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

type answer struct {
	Success bool   `json:"success"`
	Error   string `json:"error"`
	Message string `json:"message"`
	Rows    []struct {
		N int64 `json:"n"`
	} `json:"rows"`
}

// call sends one query and records the attempt.
func (l *load) call(p *dqmProc, ref int, key string, write bool) outcome {
	body, _ := json.Marshal(map[string]any{"query_ref": ref, "database": "chaos",
		"params": map[string]any{"STRING": map[string]string{"K": key}}})
	ctx, cancel := context.WithTimeout(context.Background(), deadline+slack)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+p.http+"/api/conduit/query", bytes.NewReader(body))
	if write {
		req.Header.Set("Idempotency-Key", key)
	}
	a := attempt{start: time.Now(), write: write, inst: slices.Index(l.dqms, p)}
	var detail string
	a.out, detail = l.do(req, write)
	a.end = time.Now()
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	if a.out == outWrong && len(l.wrong) < 100 {
		l.wrong = append(l.wrong, fmt.Sprintf("%s ref %d key %s: %s", p.name, ref, key, detail))
	}
	if detail == "stale" {
		l.stale++
	}
	l.mu.Unlock()
	return a.out
}

func (l *load) do(req *http.Request, write bool) (outcome, string) {
	resp, err := l.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return outHung, ""
		}
		return outCut, ""
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return outHung, ""
		}
		return outCut, ""
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return outWrong, fmt.Sprintf("HTTP %d, not JSON: %.200s", resp.StatusCode, raw)
	}
	switch {
	case resp.StatusCode == http.StatusOK && a.Success:
		if !write && (len(a.Rows) != 1 || a.Rows[0].N != 1) {
			return outOK, "stale"
		}
		return outOK, ""
	case a.Error == "unavailable" || a.Error == "timeout" || a.Error == "queue_full":
		return outContract, ""
	}
	return outWrong, fmt.Sprintf("HTTP %d %s: %s", resp.StatusCode, a.Error, a.Message)
}

// snapshot copies what was recorded.
func (l *load) snapshot() ([]attempt, []writeRec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attempt(nil), l.attempts...), append([]writeRec(nil), l.writes...)
}

// clientCall reads key with the Go client and records the attempt (inst
// -1): its deadline is the REST one, and an answer later than the slack
// after it is hung.
func (l *load) clientCall(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	a := attempt{start: time.Now(), inst: -1}
	res, err := l.goClient.Query(ctx, "chaos", refRead, schemas.Params{"STRING": {"K": json.RawMessage(strconv.Quote(key))}}, client.Queue("fast"))
	a.end = time.Now()
	var detail string
	switch code := schemas.CodeOf(err); {
	case a.end.Sub(a.start) > deadline+slack:
		a.out = outHung
	case err == nil:
		a.out = outOK
		var rows []struct {
			N int64 `json:"n"`
		}
		if json.Unmarshal(res.Rows, &rows) != nil || len(rows) != 1 || rows[0].N != 1 {
			detail = "stale"
		}
	case code == schemas.CodeUnavailable || code == schemas.CodeTimeout || code == schemas.CodeQueueFull:
		a.out = outContract
	default:
		a.out, detail = outWrong, fmt.Sprintf("Go client: %s: %v", code, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if a.out == outWrong && len(l.wrong) < 100 {
		l.wrong = append(l.wrong, "key "+key+": "+detail)
	}
	if detail == "stale" {
		l.stale++
	}
}
