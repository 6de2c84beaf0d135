package lead

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/dqmhq/dqm/schemas"
)

// ReadStatus reads every instance's status from KV dqm_status, for one
// database or (db "") all, sorted by database and instance.
func ReadStatus(ctx context.Context, js jetstream.JetStream, db string) ([]schemas.Heartbeat, error) {
	kv, err := js.KeyValue(ctx, schemas.BucketStatus)
	if err != nil {
		return nil, fmt.Errorf("kv %s: %w", schemas.BucketStatus, err)
	}
	filter := ">"
	if db != "" {
		filter = db + ".*"
	}
	lister, err := kv.ListKeysFiltered(ctx, filter)
	if err != nil {
		return nil, err
	}
	var out []schemas.Heartbeat
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue // expired between list and get
		}
		var hb schemas.Heartbeat
		if json.Unmarshal(e.Value(), &hb) == nil {
			out = append(out, hb)
		}
	}
	slices.SortFunc(out, func(a, b schemas.Heartbeat) int {
		return strings.Compare(a.Database+"."+a.Instance, b.Database+"."+b.Instance)
	})
	return out, nil
}
