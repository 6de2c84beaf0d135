package console

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// entry is a KV entry for the watch.
type entry struct {
	jetstream.KeyValueEntry
	key   string
	value []byte
	op    jetstream.KeyValueOp
	at    time.Time
}

func (e entry) Key() string                     { return e.key }
func (e entry) Value() []byte                   { return e.value }
func (e entry) Operation() jetstream.KeyValueOp { return e.op }
func (e entry) Created() time.Time              { return e.at }

// TestWatch: a changed plan is a scaling decision per tag, a lease that
// changes hands a Lead change, and entries past the TTL are gone.
func TestWatch(t *testing.T) {
	w := newWatch()
	now := time.Unix(1000, 0)
	w.now = func() time.Time { return now }
	plan := func(workers map[string]int) []byte {
		b, _ := json.Marshal(schemas.Plan{Leader: "i1", Workers: workers})
		return b
	}
	w.onLeaders(entry{key: "demo", value: []byte("i1"), op: jetstream.KeyValuePut, at: now})
	w.onLeaders(entry{key: "demo.plan", value: plan(map[string]int{"fast": 1, "slow": 1}), op: jetstream.KeyValuePut, at: now})
	w.onLeaders(entry{key: "demo.plan", value: plan(map[string]int{"fast": 3, "slow": 1}), op: jetstream.KeyValuePut, at: now})
	hb, _ := json.Marshal(schemas.Heartbeat{Database: "demo", Instance: "i1", Leader: true})
	w.onStatus(entry{key: "demo.i1", value: hb, op: jetstream.KeyValuePut, at: now})
	hb2, _ := json.Marshal(schemas.Heartbeat{Database: "demox", Instance: "i2"})
	w.onStatus(entry{key: "demox.i2", value: hb2, op: jetstream.KeyValuePut, at: now})

	v := w.of("demo")
	if v.lead != "i1" || v.plan["fast"] != 3 || len(v.instances) != 1 || v.instances[0].value.Instance != "i1" {
		t.Fatalf("view %+v", v)
	}
	decisions, leads := w.recent()
	if len(decisions) != 1 || decisions[0].Tag != "fast" || decisions[0].From != 1 || decisions[0].To != 3 {
		t.Fatalf("decisions %+v", decisions)
	}
	if len(leads) != 1 || leads[0].To != "i1" {
		t.Fatalf("leads %+v", leads)
	}
	// Past the TTL without a refresh: the lease, plan and status expired.
	now = now.Add(w.ttl + time.Second)
	v = w.of("demo")
	if v.lead != "" || v.plan != nil || len(v.instances) != 0 {
		t.Fatalf("expired view %+v", v)
	}
	if _, leads = w.recent(); len(leads) != 2 || leads[1].From != "i1" || leads[1].To != "" {
		t.Fatalf("expiry is a Lead change: %+v", leads)
	}
	w.onLeaders(entry{key: "demo", op: jetstream.KeyValueDelete, at: now})
	if _, leads = w.recent(); len(leads) != 2 {
		t.Fatalf("a delete of a lease already gone is no change: %+v", leads)
	}
}
