package lead

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/engines"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeConn is an engines.Conn whose Ping fails while down is set.
type fakeConn struct {
	down   atomic.Bool
	closed atomic.Bool
}

func (c *fakeConn) Run(context.Context, []engines.Statement) (*engines.Result, error) {
	return &engines.Result{}, nil
}

func (c *fakeConn) Ping(context.Context) error {
	if c.down.Load() {
		return errors.New("connection lost")
	}
	return nil
}

func (c *fakeConn) Close() error { c.closed.Store(true); return nil }

// connected is a holder with a fake connection in it.
func connected() (*connHolder, *fakeConn) {
	h, c := &connHolder{}, &fakeConn{}
	h.set(c)
	return h, c
}

// fakeKV is the part of a jetstream.KeyValue the jobs use, in memory.
type fakeKV struct {
	mu   sync.Mutex
	data map[string][]byte
	puts int
}

func newFakeKV() *fakeKV { return &fakeKV{data: map[string][]byte{}} }

func (kv *fakeKV) Put(_ context.Context, key string, value []byte) (uint64, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.data[key] = slices.Clone(value)
	kv.puts++
	return uint64(kv.puts), nil
}

func (kv *fakeKV) Delete(_ context.Context, key string, _ ...jetstream.KVDeleteOpt) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	delete(kv.data, key)
	return nil
}

// ListKeysFiltered understands one filter of the form "<prefix>.*".
func (kv *fakeKV) ListKeysFiltered(_ context.Context, filters ...string) (jetstream.KeyLister, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	prefix := strings.TrimSuffix(filters[0], "*")
	ch := make(chan string, len(kv.data))
	for k := range kv.data {
		if strings.HasPrefix(k, prefix) {
			ch <- k
		}
	}
	close(ch)
	return keyList(ch), nil
}

func (kv *fakeKV) keys() []string {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	var out []string
	for k := range kv.data {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (kv *fakeKV) get(key string) string {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return string(kv.data[key])
}

type keyList chan string

func (l keyList) Keys() <-chan string { return l }
func (l keyList) Stop() error         { return nil }

// runJob runs j until the test ends, and waits for it.
func runJob(t *testing.T, j job) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- j.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("job: %v", err)
		}
	})
}
