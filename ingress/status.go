package ingress

import "net/http"

// StatusWriter is an http.ResponseWriter that remembers the status code
// written through it (200 until WriteHeader says otherwise), for
// middleware that reports it: a request's span (TraceHTTP), the
// instance's request metrics.
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// NewStatusWriter wraps w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	return &StatusWriter{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader records code and writes it.
func (w *StatusWriter) WriteHeader(code int) {
	w.Status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
