package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

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
