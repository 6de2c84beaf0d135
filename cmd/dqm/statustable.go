package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// writeStatusTable prints statuses as the table of `dqm status`.
func writeStatusTable(w io.Writer, hbs []schemas.Heartbeat, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tINSTANCE\tSTATE\tLEAD\tQUEUE\tTAGS\tWORKERS\tPENDING\tACK PENDING\tPROCESSED\tFAILED\tAGE")
	for _, hb := range hbs {
		lead := ""
		if hb.Leader {
			lead = "*"
		}
		age := now.Sub(hb.Time).Round(time.Second)
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
