package params

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dqmhq/dqm/schemas"
)

// Raw is the wire form of a request's parameters: type group → name → JSON
// value, as the request payload carries them.
type Raw = schemas.Params

// Values are decoded, validated parameter values keyed by name. A value is
// int64 (INTEGER), float64 (FLOAT), string (STRING, TEXT and the temporal
// groups, in canonical form), bool (BOOLEAN) or nil (JSON null, SQL NULL).
type Values map[string]any

// kind describes one type group.
type kind struct {
	want string // what the client should send, for messages
	// decode converts a trimmed, non-null JSON value. detail optionally
	// says why a value of the right JSON type was still refused.
	decode func(b []byte) (v any, detail string, ok bool)
}

// Temporal values travel as canonical strings so that every engine receives
// the same text, whatever its driver would do with a time.Time.
const (
	dateLayout     = "2006-01-02"
	timeLayout     = "15:04:05"
	datetimeLayout = "2006-01-02 15:04:05"
	// On output .999999 drops trailing zeros; Parse needs no fraction in
	// the layout because it accepts one after the seconds anyway.
	timestampLayout = "2006-01-02 15:04:05.999999"
)

var kinds = map[string]kind{
	"INTEGER":   {"JSON integer", decodeInteger},
	"FLOAT":     {"JSON number", decodeFloat},
	"STRING":    {"JSON string", decodeString},
	"TEXT":      {"JSON string", decodeString},
	"BOOLEAN":   {"true or false", decodeBoolean},
	"DATE":      {`string "YYYY-MM-DD"`, temporal(dateLayout)},
	"TIME":      {`string "HH:MM:SS"`, temporal(timeLayout)},
	"DATETIME":  {`string "YYYY-MM-DD HH:MM:SS"`, temporal(datetimeLayout)},
	"TIMESTAMP": {`string "YYYY-MM-DD HH:MM:SS[.ffffff]"`, decodeTimestamp},
}

// groupList is for the unknown-group message.
const groupList = "INTEGER, FLOAT, STRING, TEXT, BOOLEAN, DATE, TIME, DATETIME, TIMESTAMP"

// Decode validates raw and returns the values by name. Every problem is
// reported, not just the first, as an *Error with problems in a fixed
// order: unknown groups, then parameters by name.
func Decode(raw Raw) (Values, error) {
	var problems []Problem
	type given struct {
		name, group string
		value       json.RawMessage
	}
	var all []given
	for group, byName := range raw {
		if _, ok := kinds[group]; !ok {
			problems = append(problems, Problem{Group: group, Reason: unknownGroup(group)})
			continue
		}
		for name, value := range byName {
			all = append(all, given{name, group, value})
		}
	}
	slices.SortFunc(problems, func(a, b Problem) int { return strings.Compare(a.Group, b.Group) })
	slices.SortFunc(all, func(a, b given) int {
		return cmp.Or(strings.Compare(a.name, b.name), strings.Compare(a.group, b.group))
	})

	values := make(Values, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		g := all[i]
		if j > i+1 {
			groups := make([]string, 0, j-i)
			for _, x := range all[i:j] {
				groups = append(groups, x.group)
			}
			problems = append(problems, Problem{Name: g.name,
				Reason: "given in more than one type group: " + strings.Join(groups, ", ")})
		} else if v, reason := decodeOne(g.group, g.value); reason != "" {
			problems = append(problems, Problem{Name: g.name, Group: g.group, Reason: reason})
		} else {
			values[g.name] = v
		}
		i = j
	}
	if problems != nil {
		return nil, &Error{Problems: problems}
	}
	return values, nil
}

func unknownGroup(group string) string {
	if _, ok := kinds[strings.ToUpper(group)]; ok {
		return fmt.Sprintf("unknown type group %q (type groups are upper-case: %s)", group, strings.ToUpper(group))
	}
	return fmt.Sprintf("unknown type group %q (want one of %s)", group, groupList)
}

// decodeOne returns the value, or a non-empty reason it was refused.
func decodeOne(group string, raw json.RawMessage) (any, string) {
	k := kinds[group]
	b := bytes.Trim(raw, " \t\r\n")
	if string(b) == "null" {
		return nil, ""
	}
	v, detail, ok := k.decode(b)
	if ok {
		return v, ""
	}
	reason := fmt.Sprintf("expected %s (%s), got %s", group, k.want, describe(b))
	if detail != "" {
		reason += ": " + detail
	}
	return nil, reason
}

// describe shows a refused value briefly: clients can send megabytes, and
// invalid JSON is not worth echoing.
func describe(b []byte) string {
	switch {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "an object"
	case b[0] == '[':
		return "an array"
	case !json.Valid(b):
		return "invalid JSON"
	}
	const max = 64
	if len(b) <= max {
		return string(b)
	}
	n := max
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

func decodeInteger(b []byte) (any, string, bool) {
	if integer, ok := jsonNumber(b); !ok || !integer {
		return nil, "", false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		// The syntax was checked, so only the range can be wrong.
		return nil, "out of range for a 64-bit integer", false
	}
	return n, "", true
}

func decodeFloat(b []byte) (any, string, bool) {
	if _, ok := jsonNumber(b); !ok {
		return nil, "", false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil, "out of range for a 64-bit float", false
	}
	return f, "", true
}

func decodeBoolean(b []byte) (any, string, bool) {
	switch string(b) {
	case "true":
		return true, "", true
	case "false":
		return false, "", true
	}
	return nil, "", false
}

func decodeString(b []byte) (any, string, bool) {
	s, ok := jsonString(b)
	if !ok {
		return nil, "", false
	}
	return s, "", true
}

// temporal validates a string in exactly layout, so that "1:00:00" or
// "2024-01-01 10:00:00.5" are refused rather than silently reshaped.
func temporal(layout string) func([]byte) (any, string, bool) {
	return func(b []byte) (any, string, bool) {
		s, ok := jsonString(b)
		if !ok || len(s) != len(layout) {
			return nil, "", false
		}
		t, err := time.Parse(layout, s)
		if err != nil {
			return nil, timeDetail(err), false
		}
		if t.Format(layout) != s {
			return nil, "", false
		}
		return s, "", true
	}
}

func decodeTimestamp(b []byte) (any, string, bool) {
	s, ok := jsonString(b)
	if !ok || len(s) < len(datetimeLayout) {
		return nil, "", false
	}
	if frac := s[len(datetimeLayout):]; frac != "" {
		if frac[0] != '.' || len(frac) == 1 || strings.Trim(frac[1:], "0123456789") != "" {
			return nil, "", false
		}
		if len(frac) > 7 {
			return nil, "at most 6 fractional digits", false
		}
	}
	t, err := time.Parse(datetimeLayout, s)
	if err != nil {
		return nil, timeDetail(err), false
	}
	if t.Format(datetimeLayout) != s[:len(datetimeLayout)] {
		return nil, "", false
	}
	return t.Format(timestampLayout), "", true
}

// timeDetail keeps "month out of range" and drops time's own wording about
// layouts, which means nothing to the client.
func timeDetail(err error) string {
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return strings.TrimPrefix(pe.Message, ": ")
	}
	return ""
}

// jsonString unquotes a JSON string, avoiding encoding/json for the common
// case of plain text.
func jsonString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	plain := utf8.Valid(inner)
	for _, c := range inner {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsonNumber reports whether b is a JSON number and whether it is written
// as an integer (no fraction or exponent). It exists because strconv also
// accepts forms JSON does not, such as "0x10", "+1", "Inf" and "1_000".
func jsonNumber(b []byte) (integer, ok bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		return i - start
	}
	switch n := digits(); {
	case n == 0:
		return false, false
	case n > 1 && b[i-n] == '0':
		return false, false
	}
	integer = true
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false, false
		}
		integer = false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false, false
		}
		integer = false
	}
	return integer, i == len(b)
}

// Bind returns the arguments for s in bind order. If any are missing it
// returns an *Error naming every missing parameter, sorted.
func (v Values) Bind(s Statement) ([]any, error) {
	if len(s.Args) == 0 {
		return nil, nil
	}
	args := make([]any, len(s.Args))
	var missing []string
	for i, name := range s.Args {
		x, ok := v[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		args[i] = x
	}
	if missing != nil {
		return nil, missingError(missing)
	}
	return args, nil
}

// Check reports every parameter of t that v lacks as an *Error, sorted, or
// nil if there are none. Checking the whole template first means a
// multi-statement request fails before anything runs.
func (v Values) Check(t *Template) error {
	var missing []string
	for _, name := range t.names {
		if _, ok := v[name]; !ok {
			missing = append(missing, name)
		}
	}
	if missing == nil {
		return nil
	}
	return missingError(missing)
}

// Unused lists the given names that t does not use, sorted, so the reply
// can warn about a probable typo instead of failing.
func (v Values) Unused(t *Template) []string {
	var unused []string
	for name := range v {
		if _, ok := t.known[name]; !ok {
			unused = append(unused, name)
		}
	}
	slices.Sort(unused)
	return unused
}

func missingError(names []string) *Error {
	slices.Sort(names)
	names = slices.Compact(names)
	problems := make([]Problem, len(names))
	for i, name := range names {
		problems[i] = Problem{Name: name, Reason: ReasonMissing}
	}
	return &Error{Problems: problems}
}
