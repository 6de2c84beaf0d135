package ingress

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/internal/testutil"
	"github.com/dqmhq/dqm/schemas"
)

func TestClientReplyInbox(t *testing.T) {
	ns := testutil.NATS(t)
	dial := func(opts ...nats.Option) *nats.Conn {
		nc, err := nats.Connect(ns.ClientURL(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	if _, err := NewClient(dial()); err != nil {
		t.Fatalf("default inbox: %v", err)
	}
	for _, p := range []string{"dqm.evil", "db.demo", "$JS.API", "_MINE"} {
		if _, err := NewClient(dial(nats.CustomInboxPrefix(p))); err == nil || !strings.Contains(err.Error(), "reply inbox") {
			t.Errorf("inbox prefix %s: err %v", p, err)
		}
	}
	c, err := NewClient(dial(nats.CustomInboxPrefix("_MINE")), WithReplyPrefixes("_MINE."))
	if err != nil {
		t.Fatalf("custom prefix allowed by WithReplyPrefixes: %v", err)
	}
	if !strings.HasPrefix(c.prefix, "_MINE.") {
		t.Errorf("prefix %q ignores the connection's inbox prefix", c.prefix)
	}
	// A request id becomes the reply subject's last token: one that would
	// change the subject is refused before anything is published.
	for _, id := range []string{"a.b", "a*", ">", "a b", "x\n", strings.Repeat("x", 129)} {
		res, err := c.Query(context.Background(), "demo", 1, nil, RequestID(id))
		if !errors.Is(err, schemas.ErrBadRequest) || res.Error != schemas.CodeBadRequest {
			t.Errorf("id %q: %v %+v", id, err, res)
		}
	}
}
