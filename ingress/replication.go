package ingress

import (
	"errors"

	"github.com/dqmhq/dqm/schemas"
)

// Replicated is a Databases that also reports how its streams are
// replicated; the status endpoint shows it.
type Replicated interface {
	Replication() schemas.Replication
}

// addReplication puts the streams' replication in a status body, when the
// databases report it, for a caller with a valid token or when auth is off
// (it names the NATS servers, as queues name the workers).
func (r *REST) addReplication(body map[string]any, bearerErr error) {
	rp, ok := r.dbs.(Replicated)
	if !ok || bearerErr != nil && !errors.Is(bearerErr, errAuthOff) {
		return
	}
	body["replication"] = rp.Replication()
}
