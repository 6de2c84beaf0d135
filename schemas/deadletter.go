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

// Dead-letter reasons set by the workers (the lead's exhausted-delivery
// reason is a sentence naming the count and consumer).
const (
	DLQReasonPanic = "panic"
)
