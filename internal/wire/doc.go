// Package wire is dqm's one CloudEvents codec, in NATS binary mode
// (attributes as ce-* headers, the payload as the message data); a query
// request may also come in structured mode (the whole event as JSON,
// structured.go), and its reply goes back in the request's mode. Every
// event dqm emits is built here: the query request and its result (reply),
// the change event and the cache invalidation, and the dead letter. A
// request is validated on decode so a malformed event is refused with a
// reason. Beside it are the payloads' codecs, which json.Unmarshal and
// json.Marshal would do by reflection: request data and REST bodies
// (decode.go, encode.go) and a reply taken apart for REST without
// decoding its rows (reply.go); the payload types themselves are the
// contract, in schemas. It is shared by the Go client, the REST adapter,
// the workers and the lead, and knows nothing of databases.
package wire

// Why no CloudEvents SDK: sdk-go's Validate, once the only use of
// github.com/cloudevents/sdk-go/v2 here, checks for a 1.0 event that id and
// type are non-blank and that source parses as a URL. DecodeRequest checks
// the same by hand (stricter on a blank source), with the same verdicts
// (TestDecodeMatchesSDK). BenchmarkDecodeRequest (bench_test.go, 2 shared
// cores, n=10): the attributes alone (data {"query_ref":55}) 3.6 µs → 1.8 µs,
// 936 → 552 B and 13 → 7 allocs per request; with params, the data's JSON
// dominates (~11 µs either way) and the saving is the same 6 allocs, 384 B.
// Dropped: a hot-path cost and a dependency for three string checks. The
// SDK stays a test-only import, for that comparison.
