// Command changes is a downstream consumer of dqm's change stream: it
// subscribes to dqm.<db>.changes.> with a durable JetStream consumer and
// prints each event as one JSON line. Stop it and start it again: it
// continues where it left off.
//
//	go run ./examples/changes -nats nats://127.0.0.1:4250 -db demo -durable audit
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"os/signal"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/client"
	"github.com/dqmhq/dqm/schemas"
)

func main() {
	url := flag.String("nats", "nats://127.0.0.1:4250", "NATS URL")
	db := flag.String("db", "demo", "database")
	durable := flag.String("durable", "changes-example", "durable consumer name (keeps the position)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	nc, err := nats.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	enc := json.NewEncoder(os.Stdout)
	err = client.Tail(ctx, js, *db, "", *durable, func(c schemas.Change) error { return enc.Encode(c) })
	if err != nil {
		log.Fatal(err)
	}
}
