package client

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/dqmhq/dqm/schemas"
)

// replyOf is a worker's reply of n rows, as Result.AppendJSON writes it.
func replyOf(n int) []byte {
	rows := []byte{'['}
	for i := range n {
		if i > 0 {
			rows = append(rows, ',')
		}
		rows = fmt.Appendf(rows, `{"id":%d,"name":"number %d","price":%d.5,"created":"2024-01-02T03:04:05Z"}`, i, i, i)
	}
	rows = append(rows, ']')
	res := schemas.Result{Success: true, QueryRef: 55, Database: "demo", Description: "numbers",
		Rows: rows, RowCount: n, ColumnCount: 4, QueueUsed: "fast", Status: 200}
	return res.AppendJSON(nil)
}

// BenchmarkDecodeReply is what the client does with a reply before REST
// writes it: the reply is taken apart in place, so each round decodes a
// fresh copy.
func BenchmarkDecodeReply(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		data := replyOf(n)
		buf := make([]byte, len(data))
		b.Run("rows="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, data)
				if a, err := decodeReply("demo", 55, buf, false); err != nil || a.Body == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
