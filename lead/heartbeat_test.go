package lead

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

// TestHeartbeat: the status is put at once and every refresh; the
// heartbeat subject gets it only while leading, at once on taking the
// lease.
func TestHeartbeat(t *testing.T) {
	kv := newFakeKV()
	leader := &leaderState{}
	var mu sync.Mutex
	var beats []schemas.Heartbeat
	h := &heartbeat{
		status: func() schemas.Heartbeat {
			return schemas.Heartbeat{Database: "shop", Instance: "a", Leader: leader.get(), State: StateConnected}
		},
		kv: kv, key: "shop.a", subject: schemas.HeartbeatSubject("shop"), leader: leader,
		publish: func(subject string, data []byte) error {
			var hb schemas.Heartbeat
			if subject != schemas.HeartbeatSubject("shop") || json.Unmarshal(data, &hb) != nil {
				t.Errorf("heartbeat on %s: %s", subject, data)
			}
			mu.Lock()
			beats = append(beats, hb)
			mu.Unlock()
			return nil
		},
		refresh: 10 * time.Millisecond, every: time.Hour, log: quiet(),
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(beats) }
	runJob(t, h)
	testutil.Eventually(t, 5*time.Second, "status put again", func() bool { kv.mu.Lock(); defer kv.mu.Unlock(); return kv.puts >= 2 })
	if count() != 0 {
		t.Fatal("heartbeat published without the lease")
	}
	leader.set(true)
	testutil.Eventually(t, 5*time.Second, "heartbeat on taking the lease", func() bool { return count() == 1 })
	testutil.Eventually(t, 5*time.Second, "status says leader", func() bool {
		var hb schemas.Heartbeat
		return json.Unmarshal([]byte(kv.get("shop.a")), &hb) == nil && hb.Leader
	})
	mu.Lock()
	defer mu.Unlock()
	if !beats[0].Leader {
		t.Fatalf("heartbeat %+v", beats[0])
	}
}
