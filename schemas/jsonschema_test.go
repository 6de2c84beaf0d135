package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestJSONSchemasMatchStructs: every property a schema names is a JSON
// field of its Go struct and the other way round, so neither drifts.
func TestJSONSchemasMatchStructs(t *testing.T) {
	cases := map[string]any{
		"query-request.v1": QueryRequest{},
		"query-result.v1":  Result{},
		"change.v1":        Change{},
		"invalidation":     Invalidation{},
		"watermark":        Watermark{},
		"heartbeat":        Heartbeat{},
		"plan":             Plan{},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := JSONSchemas.ReadFile("json/" + name + ".schema.json")
			if err != nil {
				t.Fatal(err)
			}
			var s struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			fields := jsonFields(reflect.TypeOf(v))
			var props []string
			for p := range s.Properties {
				props = append(props, p)
			}
			slices.Sort(props)
			if !slices.Equal(props, fields) {
				t.Errorf("schema properties %v\nstruct fields     %v", props, fields)
			}
			for _, r := range s.Required {
				if !slices.Contains(fields, r) {
					t.Errorf("required %s is not a field", r)
				}
			}
		})
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
