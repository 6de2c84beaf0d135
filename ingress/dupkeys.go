package ingress

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/dqmhq/dqm/schemas"
)

// noDuplicateKeys refuses JSON text b (valid JSON, as a decode already
// found) in which some object names a key twice: encoding/json keeps the
// last silently, so {"query_ref":1,"query_ref":2} would run a query the
// sender may not have meant. Keys are compared exactly: "Query_Ref" is
// another key (and, decoded, no field of ours).
func noDuplicateKeys(b []byte, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]struct{}
		key    bool // the next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // the decode that follows reports it
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.object && top.key {
			if _, dup := top.keys[s]; dup {
				return schemas.Errorf(schemas.CodeBadRequest, what+": key "+quote(s)+" appears twice in one object")
			}
			top.keys[s] = struct{}{}
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]struct{}{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: in an object, a key comes next.
		if len(stack) > 0 {
			if t := stack[len(stack)-1]; t.object {
				t.key = true
			}
		}
	}
}

// quote is a key as the message shows it, bounded.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
