package client

import (
	"context"

	"github.com/dqmhq/dqm/internal/cache"
	"github.com/dqmhq/dqm/internal/clientlink"
	"github.com/dqmhq/dqm/schemas"
)

// The REST adapter's way in (internal/clientlink): what it needs of a
// client and a service must not see.
func init() {
	clientlink.Do = func(c any, ctx context.Context, db string, ref int64, p schemas.Params, l clientlink.Query) *cache.Answer {
		q := query{tag: l.Tag, id: l.ID, ttl: l.TTL, ttlSet: true, tables: l.Tables, tablesSet: true,
			timeout: l.Timeout, params: l.Params, direct: l.Direct, raw: true}
		a, _ := c.(*Client).do(ctx, db, ref, p, q)
		return a
	}
	clientlink.Cache = func(c any) *cache.Cache { return c.(*Cache).c }
}
