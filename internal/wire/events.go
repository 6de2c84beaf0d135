package wire

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/dqmhq/dqm/schemas"
)

var (
	changeType       = []string{schemas.TypeChange}
	invalidationType = []string{schemas.TypeInvalidation}
	watermarkType    = []string{schemas.TypeWatermark}
)

// ChangeID is the ce-id and Nats-Msg-Id of a database's change event:
// <db>-<sequence_id>, so re-publishing it after a restart is deduplicated
// by the change stream.
func ChangeID(db string, seq int64) string { return db + "-" + strconv.FormatInt(seq, 10) }

// ChangeSource is the ce-source of a database's change events.
func ChangeSource(db string) string { return "/dqm/lead/" + db }

// NewChange builds the io.dqm.change.v1 event for ch on
// dqm.<db>.changes.<table>.<op>. ch.Table is already the subject token
// (no schema, lower-case). Its ce-id and Nats-Msg-Id are ChangeID, so it
// can be published to JetStream as it is. Data that is not valid JSON is
// sent as null: the event still says which row changed when.
func NewChange(db string, ch schemas.Change) *nats.Msg {
	ch.Database = db
	ch.Timestamp = ch.Timestamp.UTC()
	data, err := json.Marshal(ch)
	if err != nil {
		ch.Data = nil
		data, _ = json.Marshal(ch)
	}
	id := []string{ChangeID(db, ch.SequenceID)}
	h := nats.Header{
		schemas.HeaderSpecVersion: specVersion,
		schemas.HeaderType:        changeType,
		schemas.HeaderSource:      {ChangeSource(db)},
		schemas.HeaderID:          id,
		schemas.HeaderTime:        {ch.Timestamp.Format(time.RFC3339Nano)},
		schemas.HeaderSubject:     {ch.Table},
		schemas.HeaderContentType: contentJSON,
		schemas.HeaderMsgID:       id,
	}
	return &nats.Msg{Subject: schemas.ChangesSubject(db, ch.Table, ch.Op), Header: h, Data: data}
}

// NewInvalidation builds the io.dqm.invalidation.v1 event on
// dqm.<db>.invalidate.<table> (core NATS, at most once). source is the
// emitter's ce-source: the lead's ChangeSource for a trigger event, a
// worker's source for a write through dqm. The ce-id of a change's
// invalidation is derived from the change (ChangeID + "-i"); a write's is
// unique. Caches read only the data, which is the schemas.Invalidation.
func NewInvalidation(source string, inv schemas.Invalidation) *nats.Msg {
	data, _ := json.Marshal(inv) // plain strings and integers: cannot fail
	id := nuid.Next()
	if inv.SequenceID > 0 {
		id = ChangeID(inv.Database, inv.SequenceID) + "-i"
	}
	h := nats.Header{
		schemas.HeaderSpecVersion: specVersion,
		schemas.HeaderType:        invalidationType,
		schemas.HeaderSource:      {source},
		schemas.HeaderID:          {id},
		schemas.HeaderSubject:     {inv.Table},
		schemas.HeaderContentType: contentJSON,
	}
	return &nats.Msg{Subject: schemas.InvalidateSubject(inv.Database, inv.Table), Header: h, Data: data}
}

// NewWatermark builds the io.dqm.invalidation.watermark.v1 event on
// dqm.<db>.invalidate._dqm.watermark (core NATS): publisher wm.Publisher
// has published invalidations up to wm.PublisherSeq. It must leave on the
// connection that published them, after them, so a cache receives it
// behind them (schemas.WatermarkSubject).
func NewWatermark(source string, wm schemas.Watermark) *nats.Msg {
	wm.Time = wm.Time.UTC()
	data, _ := json.Marshal(wm) // plain strings, integers and a time: cannot fail
	h := nats.Header{
		schemas.HeaderSpecVersion: specVersion,
		schemas.HeaderType:        watermarkType,
		schemas.HeaderSource:      {source},
		schemas.HeaderID:          {wm.Publisher + "-w" + strconv.FormatUint(wm.PublisherSeq, 10) + "-" + strconv.FormatInt(wm.Time.UnixMilli(), 10)},
		schemas.HeaderTime:        {wm.Time.Format(time.RFC3339Nano)},
		schemas.HeaderContentType: contentJSON,
	}
	return &nats.Msg{Subject: schemas.WatermarkSubject(wm.Database), Header: h, Data: data}
}

// DeadLetter is a request moved to dqm.<db>.dlq, and why.
type DeadLetter struct {
	Subject    string      // the request's subject, db.<name>.<tag>
	Header     nats.Header // the request's headers, kept as they were
	Data       []byte      // the request's data
	Reason     string      // schemas.DLQReasonPanic, or the lead's sentence
	Consumer   string      // optional: the consumer that delivered it
	Deliveries uint64      // optional: how many times it was delivered
	StreamSeq  uint64      // optional: its sequence in the request stream
}

// NewDeadLetter builds the dead letter on dqm.<db>.dlq: the request event
// itself (its ce-* headers and data, so it can be replayed with its
// original id) plus the schemas.HeaderDLQ* headers. The request's headers
// are copied, not shared.
func NewDeadLetter(db string, dl DeadLetter) *nats.Msg {
	h := make(nats.Header, len(dl.Header)+5)
	for k, v := range maps.All(dl.Header) {
		h[k] = slices.Clone(v)
	}
	h.Set(schemas.HeaderDLQReason, dl.Reason)
	h.Set(schemas.HeaderDLQSubject, dl.Subject)
	if dl.Consumer != "" {
		h.Set(schemas.HeaderDLQConsumer, dl.Consumer)
	}
	if dl.Deliveries > 0 {
		h.Set(schemas.HeaderDLQDeliveries, strconv.FormatUint(dl.Deliveries, 10))
	}
	if dl.StreamSeq > 0 {
		h.Set(schemas.HeaderDLQStreamSeq, strconv.FormatUint(dl.StreamSeq, 10))
	}
	return &nats.Msg{Subject: schemas.DLQSubject(db), Header: h, Data: dl.Data}
}
