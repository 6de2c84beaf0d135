package params

import "strings"

// ReasonMissing is the Reason of a Problem for a parameter the template
// uses but the request did not give.
const ReasonMissing = "missing"

// Error is a parameter problem that the client must fix (HTTP 400
// bad_params). It lists every problem found, so one round trip is enough.
type Error struct {
	Problems []Problem
}

// Problem is one thing wrong with a request's parameters.
type Problem struct {
	Name   string // parameter name; empty for an unknown type group
	Group  string // type group; empty if missing or given in several groups
	Reason string // e.g. `expected INTEGER (JSON integer), got "abc"`, or ReasonMissing
}

// Error returns one sentence listing all problems, e.g.
// `parameter START: expected INTEGER (JSON integer), got "abc"; missing parameter: FINISH`.
func (e *Error) Error() string {
	var b strings.Builder
	var missing []string
	sep := func() {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
	}
	for _, p := range e.Problems {
		switch {
		case p.Reason == ReasonMissing:
			missing = append(missing, p.Name)
		case p.Name == "":
			sep()
			b.WriteString(p.Reason)
		default:
			sep()
			b.WriteString("parameter ")
			b.WriteString(p.Name)
			b.WriteString(": ")
			b.WriteString(p.Reason)
		}
	}
	if len(missing) > 0 {
		sep()
		if len(missing) == 1 {
			b.WriteString("missing parameter: ")
		} else {
			b.WriteString("missing parameters: ")
		}
		b.WriteString(strings.Join(missing, ", "))
	}
	if b.Len() == 0 {
		return "invalid parameters"
	}
	return b.String()
}
