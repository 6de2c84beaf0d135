//go:build chaos

package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// disrupted is an attempt that did not flow: it failed, or took longer
// than a request takes when nothing is wrong. A connection refused by an
// instance that is down is not: the client goes to the other one at once
// (a load balancer's job); it is counted apart.
func (a attempt) disrupted() bool {
	return a.out != outOK && a.out != outCut || a.end.Sub(a.start) > slowAttempt
}

// lateBy is how far past its deadline an answer counts as late: one
// given up at the deadline itself arrives a few milliseconds after it.
const lateBy = 500 * time.Millisecond

// slowAttempt is the latency past which an answered attempt counts as
// disrupted (normal ones take milliseconds).
const slowAttempt = time.Second

// faultResult is what the checker found for one kind of fault.
type faultResult struct {
	Fault string `json:"fault"`
	What  string `json:"what"`
	Runs  int    `json:"runs"`
	// RecoveryMS per run: from the fault to requests flowing again (the
	// end of the last disrupted attempt that started before the heal).
	RecoveryMS       []int64 `json:"recovery_ms"`
	RecoveryMedianMS int64   `json:"recovery_median_ms"`
	RecoveryWorstMS  int64   `json:"recovery_worst_ms"`
	// HealMS per run: from the heal (node back, link up, SIGCONT) to
	// requests flowing again, 0 when the heal disturbed nothing.
	HealMS       []int64 `json:"heal_ms"`
	HealWorstMS  int64   `json:"heal_worst_ms"`
	Writes       int     `json:"writes"`
	Acked        int     `json:"acked"`
	Lost         int     `json:"lost"`
	Doubled      int     `json:"doubled"`
	AppliedUnack int     `json:"applied_unacked"`
	NotApplied   int     `json:"unacked_not_applied"`
	Attempts     int     `json:"attempts"`
	Retryable    int     `json:"retryable_errors"`
	Cut          int     `json:"cut_connections"`
	Hung         int     `json:"hung"`
	// Late are answers that came more than lateBy after the request's
	// deadline but within the slack (the transport, a loaded machine).
	Late  int `json:"late"`
	Wrong int `json:"wrong_codes"`
}

// results is the whole run.
type results struct {
	When       time.Time     `json:"when"`
	Netns      bool          `json:"netns"`
	HoldMS     int64         `json:"hold_ms"`
	Faults     []faultResult `json:"faults"`
	Skipped    []string      `json:"skipped,omitempty"`
	Writes     int           `json:"writes"`
	Acked      int           `json:"acked"`
	Lost       int           `json:"lost"`
	Doubled    int           `json:"doubled"`
	Hung       int           `json:"hung"`
	Late       int           `json:"late"`
	Wrong      int           `json:"wrong_codes"`
	StaleReads int           `json:"stale_reads"`
	Phantoms   int           `json:"phantom_rows"`
	// Changes: one event per row written, in sequence order, none twice.
	ChangeEvents  int `json:"change_events"`
	ChangeMissing int `json:"change_missing"`
	ChangeDup     int `json:"change_duplicates"`
	ChangeOrder   int `json:"change_out_of_order"`
	// SeqInversions are events published after one with a higher
	// sequence id: concurrent transactions appear in commit order, and a
	// transaction's sequence id is taken at its insert (not a defect).
	SeqInversions int `json:"seq_inversions"`
	// Latency of answered attempts outside any fault run.
	CalmP50MS    float64  `json:"calm_p50_ms"`
	CalmP99MS    float64  `json:"calm_p99_ms"`
	CalmRate     float64  `json:"calm_requests_per_s"`
	WrongSamples []string `json:"wrong_samples,omitempty"`
}

// check counts every write's rows, reads the change stream back, and
// measures each run's recovery; it fails the test on any lost, doubled or
// hung request, a wrong code, or a change-stream gap.
func check(ctx context.Context, t *testing.T, h *harness, ld *load, runs []runRec, selected []fault, skipped []string) results {
	t.Helper()
	attempts, writes := ld.snapshot()
	rows := countRows(ctx, t, h.pgURL)
	res := results{When: time.Now().UTC().Truncate(time.Second), Netns: h.nw != nil, HoldMS: flagHold.Milliseconds(),
		Skipped: skipped, StaleReads: ld.stale, WrongSamples: ld.wrong}
	byFault := map[string]*faultResult{}
	for _, f := range selected {
		if !slices.Contains(skipped, f.name) {
			res.Faults = append(res.Faults, faultResult{Fault: f.name, What: f.what})
		}
	}
	for i := range res.Faults {
		byFault[res.Faults[i].Fault] = &res.Faults[i]
	}
	phaseFault := map[string]*faultResult{}
	for _, r := range runs {
		phaseFault[r.phase] = byFault[r.fault]
	}
	known := map[string]bool{}
	for _, w := range writes {
		known[w.key] = true
		n := rows[w.key]
		fr := phaseFault[w.phase]
		if fr == nil {
			fr = &faultResult{} // warm-up and cool-down: counted in the totals only
		}
		fr.Writes++
		res.Writes++
		if w.acked {
			fr.Acked++
			res.Acked++
		}
		switch {
		case w.acked && n == 0:
			fr.Lost++
			res.Lost++
		case n > 1:
			fr.Doubled++
			res.Doubled++
		case !w.acked && n == 1:
			fr.AppliedUnack++
		case !w.acked:
			fr.NotApplied++
		}
	}
	for k := range rows {
		if !known[k] {
			res.Phantoms++
		}
	}
	for _, r := range runs {
		fr := byFault[r.fault]
		fr.Runs++
		rec, heal := recovery(attempts, r)
		t.Logf("%s: recovery %v, after heal %v; disrupted attempts: %s", r.phase, rec, heal, disruptions(attempts, r))
		fr.RecoveryMS = append(fr.RecoveryMS, rec.Milliseconds())
		fr.HealMS = append(fr.HealMS, heal.Milliseconds())
	}
	for i := range res.Faults {
		fr := &res.Faults[i]
		fr.RecoveryMedianMS, fr.RecoveryWorstMS = medianWorst(fr.RecoveryMS)
		_, fr.HealWorstMS = medianWorst(fr.HealMS)
	}
	for _, a := range attempts {
		fr := faultAt(runs, byFault, a.start)
		if fr == nil {
			fr = &faultResult{}
		}
		fr.Attempts++
		if a.out != outHung && a.end.Sub(a.start) > deadline+lateBy {
			fr.Late++
			res.Late++
		}
		switch a.out {
		case outContract:
			fr.Retryable++
		case outCut:
			fr.Cut++
		case outHung:
			fr.Hung++
			res.Hung++
		case outWrong:
			fr.Wrong++
			res.Wrong++
		}
	}
	checkChanges(ctx, t, h, writes, &res)
	res.CalmP50MS, res.CalmP99MS, res.CalmRate = calm(attempts, runs)
	for _, c := range []struct {
		what string
		n    int
	}{{"acknowledged writes lost", res.Lost}, {"writes applied twice", res.Doubled}, {"requests hung", res.Hung},
		{"answers with a wrong code", res.Wrong}, {"reads of an acknowledged key not seeing one row", res.StaleReads},
		{"rows no write made", res.Phantoms}, {"change events missing", res.ChangeMissing},
		{"change events twice", res.ChangeDup}, {"change events out of order", res.ChangeOrder}} {
		if c.n != 0 {
			t.Errorf("%d %s", c.n, c.what)
		}
	}
	for _, w := range res.WrongSamples {
		t.Log("wrong:", w)
	}
	return res
}

// faultAt is the fault whose run was on at time at (injected .. healed
// plus the settle after it).
func faultAt(runs []runRec, byFault map[string]*faultResult, at time.Time) *faultResult {
	for _, r := range runs {
		if !at.Before(r.injected) && at.Before(r.healed.Add(3*time.Second)) {
			return byFault[r.fault]
		}
	}
	return nil
}

// recovery measures one run: from the fault to the end of the last
// disrupted attempt that ended after it and started before the heal; and
// from the heal to the end of the last disrupted attempt started in the
// settle after it.
func recovery(attempts []attempt, r runRec) (rec, heal time.Duration) {
	for _, a := range attempts {
		if !a.disrupted() {
			continue
		}
		if !a.end.Before(r.injected) && a.start.Before(r.healed) {
			rec = max(rec, a.end.Sub(r.injected))
		}
		if !a.start.Before(r.healed) && a.start.Before(r.healed.Add(3*time.Second)) {
			heal = max(heal, a.end.Sub(r.healed))
		}
	}
	return rec, heal
}

func medianWorst(ms []int64) (median, worst int64) {
	if len(ms) == 0 {
		return 0, 0
	}
	s := slices.Sorted(slices.Values(ms))
	return s[len(s)/2], s[len(s)-1]
}

// countRows is the number of rows per key.
func countRows(ctx context.Context, t *testing.T, url string) map[string]int {
	t.Helper()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rs, err := c.Query(ctx, "SELECT k, count(*) FROM "+table+" GROUP BY k")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rs.Next() {
		var k string
		var n int
		if err := rs.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkChanges waits until the Lead has delivered every trigger event,
// then reads the table's change events from the start: each row written
// must have exactly one, and they must keep commit order: a write
// acknowledged before another was issued comes first.
func checkChanges(ctx context.Context, t *testing.T, h *harness, writes []writeRec, res *results) {
	t.Helper()
	c, err := pgx.Connect(ctx, h.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	h.poll(ctx, "every trigger event delivered", func() bool {
		var n int
		err := c.QueryRow(ctx, "SELECT count(*) FROM trigger_events WHERE NOT delivered").Scan(&n)
		return err == nil && n == 0
	})
	rs, err := c.Query(ctx, "SELECT id FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rs, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	var events []event
	h.poll(ctx, "change stream read", func() bool {
		var err error
		if events, err = readChanges(ctx, h.js); err != nil {
			t.Logf("change stream: %v; reading again", err)
		}
		return err == nil
	})
	res.ChangeEvents = len(events)
	seen := map[int64]int{}
	var last int64
	for _, e := range events {
		seen[e.id]++
		if e.seq < last {
			res.SeqInversions++
		}
		last = max(last, e.seq)
	}
	for _, id := range ids {
		switch n := seen[id]; {
		case n == 0:
			res.ChangeMissing++
		case n > 1:
			res.ChangeDup += n - 1
		}
	}
	if res.ChangeMissing > 0 {
		t.Logf("%d of %d rows have no change event", res.ChangeMissing, len(ids))
	}
	res.ChangeOrder = orderViolations(events, writes)
}

// orderViolations counts events that come before the event of a write
// acknowledged before theirs was issued: walking the stream backwards,
// the earliest acknowledgement among the later events must not precede
// this event's write.
func orderViolations(events []event, writes []writeRec) int {
	byKey := make(map[string]writeRec, len(writes))
	for _, w := range writes {
		byKey[w.key] = w
	}
	var minAck time.Time
	n := 0
	for i := len(events) - 1; i >= 0; i-- {
		w, ok := byKey[events[i].key]
		if !ok {
			continue
		}
		if !minAck.IsZero() && minAck.Before(w.issued) {
			n++
		}
		if w.acked && (minAck.IsZero() || w.ackedAt.Before(minAck)) {
			minAck = w.ackedAt
		}
	}
	return n
}

// event is one change event of the table, as read back.
type event struct {
	seq int64
	id  int64
	key string
}

// readChanges reads the table's change events from the start, in stream
// order.
func readChanges(ctx context.Context, js jetstream.JetStream) ([]event, error) {
	cons, err := js.OrderedConsumer(ctx, schemas.ChangesStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{schemas.ChangesFilter("chaos", table)}, DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return nil, err
	}
	// One subscription for the whole read (a Fetch or Next of an
	// ordered consumer makes a new consumer each time).
	it, err := cons.Messages()
	if err != nil {
		return nil, err
	}
	defer it.Stop()
	var out []event
	for {
		m, err := it.Next()
		if err != nil {
			return nil, err
		}
		var ch schemas.Change
		var data struct {
			New struct {
				ID int64  `json:"id"`
				K  string `json:"k"`
			} `json:"new"`
		}
		if err := json.Unmarshal(m.Data(), &ch); err != nil {
			return nil, fmt.Errorf("change event: %w", err)
		}
		if err := json.Unmarshal(ch.Data, &data); err != nil {
			return nil, fmt.Errorf("change event data: %w: %s", err, ch.Data)
		}
		out = append(out, event{seq: ch.SequenceID, id: data.New.ID, key: data.New.K})
		md, err := m.Metadata()
		if err != nil {
			return nil, err
		}
		if md.NumPending == 0 {
			return out, nil
		}
	}
}

// calm is the latency (p50, p99) and rate of answered attempts outside
// every fault run and its settle.
func calm(attempts []attempt, runs []runRec) (p50, p99, rate float64) {
	var lat []float64
	var first, last time.Time
	for _, a := range attempts {
		if a.out != outOK || inRun(runs, a.start) {
			continue
		}
		lat = append(lat, float64(a.end.Sub(a.start).Microseconds())/1000)
		if first.IsZero() || a.start.Before(first) {
			first = a.start
		}
		if a.end.After(last) {
			last = a.end
		}
	}
	if len(lat) == 0 {
		return 0, 0, 0
	}
	slices.Sort(lat)
	var runTime time.Duration
	for _, r := range runs {
		runTime += r.healed.Add(3 * time.Second).Sub(r.injected)
	}
	if span := last.Sub(first) - runTime; span > 0 {
		rate = float64(len(lat)) / span.Seconds()
	}
	return lat[len(lat)/2], lat[len(lat)*99/100], rate
}

func inRun(runs []runRec, at time.Time) bool {
	for _, r := range runs {
		if !at.Before(r.injected) && at.Before(r.healed.Add(3*time.Second)) {
			return true
		}
	}
	return false
}

// disruptions summarises a run's disrupted attempts by instance and
// outcome, with the time of the last one of each, for the log.
func disruptions(attempts []attempt, r runRec) string {
	type k struct{ inst, out int }
	count := map[k]int{}
	lastEnd := map[k]time.Duration{}
	for _, a := range attempts {
		if !a.disrupted() || a.end.Before(r.injected) || !a.start.Before(r.healed.Add(3*time.Second)) {
			continue
		}
		key := k{a.inst, int(a.out)}
		count[key]++
		lastEnd[key] = max(lastEnd[key], a.end.Sub(r.injected))
	}
	names := []string{"slow", "retryable", "cut", "hung", "wrong"}
	var parts []string
	for key, n := range count {
		who := fmt.Sprintf("dqm%d", key.inst+1)
		if key.inst < 0 {
			who = "Go client"
		}
		parts = append(parts, fmt.Sprintf("%s %s ×%d (last ends +%.1fs)", who, names[key.out], n, lastEnd[key].Seconds()))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}
