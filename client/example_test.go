package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/schemas"
)

// A service runs query 55 of database demo, with a near-cache.
func Example() {
	nc, err := nats.Connect(nats.DefaultURL)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	c, err := client.New(nc, client.WithSource("/my/service"), client.WithCache(client.NewCache(10000, 64<<20)))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p := schemas.Params{"INTEGER": {"START": json.RawMessage("1"), "FINISH": json.RawMessage("3")}}
	res, err := c.Query(ctx, "demo", 55, p, client.Queue(schemas.TagFast))
	if err != nil {
		log.Fatal(err) // a *schemas.Error: its Code says why (timeout, queue_full, ...)
	}
	var rows []map[string]any
	if err := json.Unmarshal(res.Rows, &rows); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.RowCount, rows)
}
