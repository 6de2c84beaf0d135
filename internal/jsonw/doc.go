// Package jsonw appends JSON tokens to byte slices without reflection, for
// the hot paths that write rows and replies. Its strings are escaped the
// way encoding/json escapes them, so both produce the same bytes.
package jsonw
