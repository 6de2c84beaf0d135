package engines

import "container/list"

// StmtCache is a bounded LRU of prepared statements keyed by SQL text, one
// per connection. Keying by text means a catalog entry whose SQL changed
// simply misses, and the old statement ages out; Forget drops one at once.
type StmtCache[S any] struct {
	max   int
	ll    *list.List
	items map[string]*list.Element
	close func(S) // releases an evicted statement
}

type stmtEntry[S any] struct {
	sql  string
	stmt S
}

// NewStmtCache makes a cache of at most max statements (DefaultStmtCacheSize
// if max ≤ 0); close is called for each statement evicted or forgotten.
func NewStmtCache[S any](max int, close func(S)) *StmtCache[S] {
	if max <= 0 {
		max = DefaultStmtCacheSize
	}
	return &StmtCache[S]{max: max, ll: list.New(), items: make(map[string]*list.Element), close: close}
}

// Get returns the statement for sql and marks it recently used.
func (c *StmtCache[S]) Get(sql string) (S, bool) {
	if e, ok := c.items[sql]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(*stmtEntry[S]).stmt, true
	}
	var zero S
	return zero, false
}

// Put adds a statement, evicting the least recently used one when full.
func (c *StmtCache[S]) Put(sql string, stmt S) {
	if e, ok := c.items[sql]; ok {
		c.ll.MoveToFront(e)
		old := e.Value.(*stmtEntry[S])
		if c.close != nil {
			c.close(old.stmt)
		}
		old.stmt = stmt
		return
	}
	c.items[sql] = c.ll.PushFront(&stmtEntry[S]{sql: sql, stmt: stmt})
	for c.ll.Len() > c.max {
		c.remove(c.ll.Back())
	}
}

// Forget drops the statement for sql, if cached.
func (c *StmtCache[S]) Forget(sql string) {
	if e, ok := c.items[sql]; ok {
		c.remove(e)
	}
}

// Len is the number of cached statements.
func (c *StmtCache[S]) Len() int { return c.ll.Len() }

// Clear drops every statement (on Close or after the connection is lost).
func (c *StmtCache[S]) Clear() {
	for c.ll.Len() > 0 {
		c.remove(c.ll.Back())
	}
}

func (c *StmtCache[S]) remove(e *list.Element) {
	c.ll.Remove(e)
	ent := e.Value.(*stmtEntry[S])
	delete(c.items, ent.sql)
	if c.close != nil {
		c.close(ent.stmt)
	}
}
