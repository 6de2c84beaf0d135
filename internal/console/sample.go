package console

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// streamEvery is how many samplings pass between two reads of the
// request streams' and the dead-letter stream's info, which change
// slowly.
const streamEvery = 5

// load is one tag's consumer, as NATS reports it.
type load struct {
	ok         bool
	pending    uint64
	ackPending int
	delivered  uint64
}

// sampler reads NATS every sampling: the consumers of every database's
// tags each time, the streams every streamEvery. Only the console's
// sampling goroutine uses it.
type sampler struct {
	js        jetstream.JetStream
	dbs       []string
	consumers map[string]map[string]jetstream.Consumer // db → tag
	streams   map[string]Stream
	dlq       map[string]uint64
	n         int
}

func newSampler(js jetstream.JetStream, dbs []string) *sampler {
	s := &sampler{js: js, dbs: dbs, consumers: map[string]map[string]jetstream.Consumer{},
		streams: map[string]Stream{}, dlq: map[string]uint64{}}
	for _, db := range dbs {
		s.consumers[db] = map[string]jetstream.Consumer{}
	}
	return s
}

// loads reads every database's consumers, one goroutine per database.
func (s *sampler) loads(ctx context.Context) map[string]map[string]load {
	out := make(map[string]map[string]load, len(s.dbs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, db := range s.dbs {
		wg.Go(func() {
			m := s.dbLoads(ctx, db)
			mu.Lock()
			out[db] = m
			mu.Unlock()
		})
	}
	wg.Wait()
	if s.n%streamEvery == 0 {
		s.readStreams(ctx)
	}
	s.n++
	return out
}

func (s *sampler) dbLoads(ctx context.Context, db string) map[string]load {
	out := map[string]load{}
	byTag := s.consumers[db]
	for _, tag := range schemas.Tags {
		c := byTag[tag]
		if c == nil {
			var err error
			if c, err = s.js.Consumer(ctx, schemas.StreamName(db), schemas.ConsumerName(db, tag)); err != nil {
				continue
			}
			byTag[tag] = c
		}
		info, err := c.Info(ctx)
		if err != nil {
			delete(byTag, tag) // looked up again: it may have been recreated
			continue
		}
		out[tag] = load{ok: true, pending: info.NumPending, ackPending: info.NumAckPending, delivered: info.Delivered.Consumer}
	}
	return out
}

// readStreams refreshes the request streams' replicas, leader and depth
// and every database's dead-letter count.
func (s *sampler) readStreams(ctx context.Context) {
	for _, db := range s.dbs {
		st, err := s.js.Stream(ctx, schemas.StreamName(db))
		if err != nil {
			continue
		}
		info := st.CachedInfo()
		if fresh, err := st.Info(ctx); err == nil {
			info = fresh
		}
		v := Stream{Name: info.Config.Name, Replicas: max(info.Config.Replicas, 1), Messages: info.State.Msgs, Peers: []string{}}
		if c := info.Cluster; c != nil {
			v.Leader = c.Leader
			for _, p := range c.Replicas {
				v.Peers = append(v.Peers, p.Name)
			}
		}
		s.streams[db] = v
	}
	dlq, err := s.js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return
	}
	info, err := dlq.Info(ctx, jetstream.WithSubjectFilter(schemas.DLQSubject("*")))
	if err != nil {
		return
	}
	for _, db := range s.dbs {
		s.dlq[db] = info.State.Subjects[schemas.DLQSubject(db)]
	}
}
