package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// Limits bound what the stream keeps.
type Limits struct {
	MaxAge  time.Duration // 0: 7 days
	MaxMsgs int64         // 0: 100,000
	// Replicas is the stream's replica count (0: 1).
	Replicas int
}

// EnsureStream creates or updates DQM_DLQ, which captures every database's
// dqm.<name>.dlq.
func EnsureStream(ctx context.Context, js jetstream.JetStream, l Limits) (jetstream.Stream, error) {
	if l.MaxAge <= 0 {
		l.MaxAge = 7 * 24 * time.Hour
	}
	if l.MaxMsgs <= 0 {
		l.MaxMsgs = 100_000
	}
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        schemas.DLQStream,
		Description: "dqm dead letters: requests that exhausted redelivery, panicked or could not be answered",
		Subjects:    []string{schemas.DLQSubject("*")},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      l.MaxAge,
		MaxMsgs:     l.MaxMsgs,
		Discard:     jetstream.DiscardOld,
		Storage:     jetstream.FileStorage,
		Replicas:    l.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", schemas.DLQStream, err)
	}
	return st, nil
}

// Letter is one stored dead letter.
type Letter struct {
	Seq        uint64    // its sequence in DQM_DLQ
	Time       time.Time // when it was dead-lettered
	RequestID  string    // the request's ce-id
	Ref        string    // ce-subject: the query ref
	Subject    string    // the request subject, db.<name>.<tag>
	Reason     string
	Deliveries int
	Error      string
	Msg        *jetstream.RawStreamMsg
}

// List returns a database's dead letters, oldest first.
func List(ctx context.Context, js jetstream.JetStream, db string) ([]Letter, error) {
	st, err := js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", schemas.DLQStream, err)
	}
	var out []Letter
	var seq uint64 = 1
	for {
		raw, err := st.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(schemas.DLQSubject(db)))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, letter(raw))
		seq = raw.Sequence + 1
	}
}

func letter(raw *jetstream.RawStreamMsg) Letter {
	h := raw.Header
	n, _ := strconv.Atoi(h.Get(schemas.HeaderDLQDeliveries))
	return Letter{
		Seq: raw.Sequence, Time: raw.Time, RequestID: h.Get(schemas.HeaderID), Ref: h.Get(schemas.HeaderSubject),
		Subject: h.Get(schemas.HeaderDLQSubject), Reason: h.Get(schemas.HeaderDLQReason), Deliveries: n, Error: h.Get(schemas.HeaderDLQError), Msg: raw,
	}
}

// Replay republishes the database's dead letters whose request id is in
// ids (all of them when ids is empty) to their original subject, with
// their original headers and data, and removes each one replayed. The
// ce-id stays, so an applied write is not applied again; Nats-Msg-Id is
// the ce-id plus the dead letter's sequence, so the request stream's
// duplicate window does not swallow the replay while two replays of one
// letter still collapse. It returns the request ids replayed.
func Replay(ctx context.Context, js jetstream.JetStream, db string, ids []string) ([]string, error) {
	letters, err := List(ctx, js, db)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	st, err := js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, l := range letters {
		if len(want) > 0 && !want[l.RequestID] {
			continue
		}
		if l.Subject == "" || !validRequestSubject(db, l.Subject) {
			return done, fmt.Errorf("dead letter %d: no request subject of database %s to replay to", l.Seq, db)
		}
		msg := nats.NewMsg(l.Subject)
		for k, v := range l.Msg.Header {
			if k == schemas.HeaderDLQReason || k == schemas.HeaderDLQConsumer || k == schemas.HeaderDLQDeliveries || k == schemas.HeaderDLQStreamSeq ||
				k == schemas.HeaderDLQSubject || k == schemas.HeaderDLQError || k == jetstream.MsgIDHeader {
				continue
			}
			msg.Header[k] = v
		}
		msg.Data = l.Msg.Data
		id := l.RequestID + ".replay." + strconv.FormatUint(l.Seq, 10)
		if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(id)); err != nil {
			return done, fmt.Errorf("replay %s: %w", l.RequestID, err)
		}
		if err := st.DeleteMsg(ctx, l.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return done, fmt.Errorf("replayed %s but could not remove it: %w", l.RequestID, err)
		}
		done = append(done, l.RequestID)
	}
	return done, nil
}

// validRequestSubject reports whether subject is one of db's queues: a
// dead letter is never replayed anywhere else.
func validRequestSubject(db, subject string) bool {
	for _, tag := range schemas.Tags {
		if subject == schemas.RequestSubject(db, tag) {
			return true
		}
	}
	return false
}

// Purge removes every dead letter of a database and returns how many.
func Purge(ctx context.Context, js jetstream.JetStream, db string) (uint64, error) {
	st, err := js.Stream(ctx, schemas.DLQStream)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", schemas.DLQStream, err)
	}
	before, err := st.Info(ctx, jetstream.WithSubjectFilter(schemas.DLQSubject(db)))
	if err != nil {
		return 0, err
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject(schemas.DLQSubject(db))); err != nil {
		return 0, err
	}
	return before.State.Subjects[schemas.DLQSubject(db)], nil
}
