package console

// ring keeps the last cap values appended, oldest first. Not safe for
// concurrent use: the console guards it with its own lock.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest value
	n     int
}

func newRing[T any](capacity int) *ring[T] { return &ring[T]{buf: make([]T, max(capacity, 1))} }

// add appends v, dropping the oldest value when full.
func (r *ring[T]) add(v T) {
	if r.n < len(r.buf) {
		r.buf[(r.start+r.n)%len(r.buf)] = v
		r.n++
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % len(r.buf)
}

// since returns, oldest first, the values after the first for which keep
// is false, scanning from the newest: the values a caller has not seen.
func (r *ring[T]) since(keep func(T) bool) []T {
	i := r.n
	for i > 0 && keep(r.at(i-1)) {
		i--
	}
	out := make([]T, 0, r.n-i)
	for ; i < r.n; i++ {
		out = append(out, r.at(i))
	}
	return out
}

// all returns every value, oldest first.
func (r *ring[T]) all() []T { return r.since(func(T) bool { return true }) }

func (r *ring[T]) at(i int) T { return r.buf[(r.start+i)%len(r.buf)] }

func (r *ring[T]) len() int { return r.n }
