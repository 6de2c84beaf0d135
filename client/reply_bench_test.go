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
// writes it (raw: its rows pass through unread); BenchmarkDecodeReplyFull
// what it does for a service's Query (every field read, rows checked).
// The reply is taken apart in place, so each round decodes a fresh copy.
//
// Measured (2 shared cores under load, n=6, benchstat) for REST, before
// (decodeReply: wire.DecodeResult, then SplitReply) → after (ReadReply):
// 1 row 6.4 → 2.3 µs, 100 rows 123 → 2.2 µs, 1000 rows (78 KB) 1.29 ms →
// 5.8 µs, the copy included; 4 allocations either way. A service's Query
// still reads every row (Full: unchanged, ~50 MB/s).
func BenchmarkDecodeReply(b *testing.B)     { benchDecodeReply(b, true) }
func BenchmarkDecodeReplyFull(b *testing.B) { benchDecodeReply(b, false) }

func benchDecodeReply(b *testing.B, raw bool) {
	for _, n := range []int{1, 100, 1000} {
		data := replyOf(n)
		buf := make([]byte, len(data))
		b.Run("rows="+strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, data)
				if a, err := decodeReply("demo", 55, buf, raw); err != nil || a.Body == nil {
					b.Fatal(err)
				}
			}
		})
	}
}
