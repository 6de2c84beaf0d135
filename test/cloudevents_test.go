package test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	cejsm "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/binding"

	"github.com/dqmhq/dqm/schemas"
)

// TestCloudEventsSDK: a request sent with sdk-go's NATS JetStream sender,
// in binary and in structured mode, to db.demo.fast of a running dqm, with
// the inbox as the dqmreplyto extension and a W3C traceparent; the reply,
// read back with sdk-go's binding, comes in the request's mode and carries
// dqmrequestid and the traceparent (CONTRACT §2–§3).
func TestCloudEventsSDK(t *testing.T) {
	s := start(t, testConfig(t))
	nc := s.NATS()
	sender, err := cejsm.NewSenderFromConn(nc, schemas.StreamName("demo"), schemas.RequestSubject("demo", schemas.TagFast), nil)
	if err != nil {
		t.Fatal(err)
	}
	ce, err := cloudevents.NewClient(sender)
	if err != nil {
		t.Fatal(err)
	}
	const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, mode := range []string{"binary", "structured"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			inbox := "_INBOX.sdk." + mode
			sub, err := nc.SubscribeSync(inbox)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()

			ev := cloudevents.NewEvent()
			ev.SetID("sdk-" + mode)
			ev.SetSource("/svc/sdk-test")
			ev.SetType(schemas.TypeQueryRequest)
			ev.SetSubject("55")
			ev.SetTime(time.Now())
			ev.SetExtension("dqmreplyto", inbox)
			ev.SetExtension(schemas.ExtDeadline, time.Now().Add(10*time.Second).UTC().Format(time.RFC3339Nano))
			ev.SetExtension("traceparent", traceparent)
			if err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{
				"query_ref": 55, "params": map[string]any{"INTEGER": map[string]int{"START": 1, "FINISH": 3}}}); err != nil {
				t.Fatal(err)
			}
			sendCtx := binding.WithForceBinary(ctx)
			if mode == "structured" {
				sendCtx = binding.WithForceStructured(ctx)
			}
			if res := ce.Send(sendCtx, ev); !cloudevents.IsACK(res) {
				t.Fatalf("send: %v", res)
			}

			m, err := sub.NextMsg(10 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			msg := cejsm.NewMessage(m)
			if want := map[string]binding.Encoding{"binary": binding.EncodingBinary, "structured": binding.EncodingStructured}[mode]; msg.ReadEncoding() != want {
				t.Fatalf("reply encoding %v, want %v (headers %v)", msg.ReadEncoding(), want, m.Header)
			}
			reply, err := binding.ToEvent(ctx, msg)
			if err != nil {
				t.Fatalf("reply is not a CloudEvent: %v: %v %s", err, m.Header, m.Data)
			}
			if err := reply.Validate(); err != nil {
				t.Fatal(err)
			}
			ext := reply.Extensions()
			if reply.Type() != schemas.TypeQueryResult || ext[schemas.ExtRequestID] != ev.ID() || ext["traceparent"] != traceparent {
				t.Fatalf("reply %v", reply)
			}
			var body schemas.Result
			if err := json.Unmarshal(reply.Data(), &body); err != nil {
				t.Fatal(err)
			}
			if !body.Success || body.RowCount != 3 || body.Status != 200 || body.QueueUsed != schemas.TagFast {
				t.Fatalf("body %s", reply.Data())
			}
		})
	}
}
