package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// readStatus reads every instance's status from KV dqm_status, for one
// database or (db "") all, sorted by database and instance.
func readStatus(ctx context.Context, js jetstream.JetStream, db string) ([]schemas.Heartbeat, error) {
	kv, err := js.KeyValue(ctx, schemas.BucketStatus)
	if err != nil {
		return nil, fmt.Errorf("kv %s: %w", schemas.BucketStatus, err)
	}
	filter := ">"
	if db != "" {
		filter = db + ".*"
	}
	lister, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []schemas.Heartbeat
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // expired between list and get
		}
		var hb schemas.Heartbeat
		if json.Unmarshal(e.Value(), &hb) == nil {
			out = append(out, hb)
		}
	}
	slices.SortFunc(out, func(a, b schemas.Heartbeat) int {
		return strings.Compare(a.Database+"."+a.Instance, b.Database+"."+b.Instance)
	})
	return out, nil
}

// writeStatusTable prints statuses as the table of `dqm status`.
func writeStatusTable(w io.Writer, hbs []schemas.Heartbeat) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tINSTANCE\tSTATE\tLEAD\tQUEUE\tTAGS\tWORKERS\tPENDING\tACK PENDING\tPROCESSED\tFAILED\tAGE")
	for _, hb := range hbs {
		lead := ""
		if hb.Leader {
			lead = "*"
		}
		age := time.Since(hb.Time).Round(time.Second)
		for _, q := range hb.Queues {
			tags := strings.Join(q.Tags, ",")
			if tags == "" {
				tags = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", hb.Database, hb.Instance, hb.State, lead,
				q.Label, tags, q.Workers, q.Pending, q.AckPending, q.Processed, q.Failed, age)
		}
		if len(hb.Queues) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t-\t-\t0\t0\t0\t0\t0\t%s\n", hb.Database, hb.Instance, hb.State, lead, age)
		}
	}
	return tw.Flush()
}

// writeRowsTable prints a result's rows (a JSON array of objects, keys in
// column order) as a table with the columns in that order.
func writeRowsTable(w io.Writer, rows json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(rows))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('[') {
		return fmt.Errorf("rows: want a JSON array")
	}
	var cols []string
	var lines [][]string
	for dec.More() {
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return fmt.Errorf("rows: want objects")
		}
		var line []string
		for i := 0; dec.More(); i++ {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				return err
			}
			if len(lines) == 0 {
				cols = append(cols, fmt.Sprint(key))
			}
			line = append(line, cell(v))
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		lines = append(lines, line)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, l := range lines {
		fmt.Fprintln(tw, strings.Join(l, "\t"))
	}
	fmt.Fprintf(tw, "(%d rows)\n", len(lines))
	return tw.Flush()
}

func cell(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
