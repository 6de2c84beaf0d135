package workers

// The request path, outermost first. Each step's comment says what it
// does; its file is named by its concern: settle.go (the message's fate),
// admit.go (which requests are run), respond.go (the reply), resolve.go
// (the entry), idempotency.go and execute.go (running it), observe.go and
// trace.go (what is seen of it).

// steps is the first chain: every message, as a request.
func (w *Worker) steps() []step[handler] {
	return []step[handler]{
		{"observe", w.observe},
		{"recovery", w.recovery},
		{"settle", w.settle},
		{"decode", w.decode},
		{"trace", w.trace},
		{"guard", w.guard},
		{"respond", w.respond},
		{"landing", w.landing},
		{"check", w.check},
		{"deadline", w.deadline},
	}
}

// callSteps is the second chain, between resolve and execute: a request
// bound to its entry.
func (w *Worker) callSteps() []step[runner] {
	return []step[runner]{
		{"lane", w.lane},
		{"idempotency", w.idempotency},
		{"retry", w.retry},
	}
}

// chain is the whole path, built once (New).
func (w *Worker) chain() handler {
	return build(w.resolve(build(runner(w.execute), w.callSteps())), w.steps())
}

// stepNames is the path as chain builds it, for the test that holds it.
func (w *Worker) stepNames() []string {
	var names []string
	for _, s := range w.steps() {
		names = append(names, s.name)
	}
	names = append(names, "resolve")
	for _, s := range w.callSteps() {
		names = append(names, s.name)
	}
	return append(names, "execute")
}
