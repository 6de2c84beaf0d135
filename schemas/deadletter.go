package schemas

// Dead-letter headers on dqm.<name>.dlq messages. A dead letter carries the
// request's original headers and data, plus these.
const (
	HeaderDLQReason     = "Dqm-Dlq-Reason"     // why: exhausted deliveries, panic, …
	HeaderDLQConsumer   = "Dqm-Dlq-Consumer"   // the consumer that delivered it
	HeaderDLQDeliveries = "Dqm-Dlq-Deliveries" // how many times it was delivered
	HeaderDLQStreamSeq  = "Dqm-Dlq-Stream-Seq" // its sequence in the request stream
	HeaderDLQSubject    = "Dqm-Dlq-Subject"    // the request subject, db.<name>.<tag>
	HeaderDLQError      = "Dqm-Dlq-Error"      // the last error or the panic value, if known
)

// Dead-letter reasons (HeaderDLQReason), also the reason label of
// dqm_dead_letters_total.
const (
	DLQReasonPanic         = "panic"
	DLQReasonMaxDeliveries = "max_deliveries" // the Lead: MaxDeliver reached; HeaderDLQError says more
	DLQReasonReplySubject  = "reply_subject"  // a worker: not an allowed inbox, never run
)
