package config

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// redacted is what a non-empty secret prints as.
const redacted = "[redacted]"

// Secret is a sensitive string such as auth.jwt_secret. Every way of printing
// it (fmt verbs, log/slog, encoding/json) shows "[redacted]" (or "" when it
// is empty); only Reveal returns the value. Marshaled JSON is for display and
// does not round-trip.
type Secret string

// Reveal returns the secret value. Call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" when the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer (%#v) without revealing the value.
func (s Secret) GoString() string { return "config.Secret(" + strconv.Quote(s.String()) + ")" }

// Format implements fmt.Formatter so that every verb prints the redacted form.
func (s Secret) Format(f fmt.State, verb rune) { format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// DSN is a database connection string. It prints like Secret, except that a
// URL-form DSN (scheme://...) keeps everything but its password, e.g.
// "postgresql://user:xxxxx@host/db"; password-like query parameters
// (password, sslpassword, ...) are masked the same way. Any other form
// (file paths, key=value strings, MySQL's user:pass@tcp(...)) prints as
// "[redacted]". Only Reveal returns the value.
type DSN string

// Reveal returns the connection string. Call it only where it is used.
func (d DSN) Reveal() string { return string(d) }

// String returns the redacted form described on DSN.
func (d DSN) String() string { return redactDSN(string(d)) }

// GoString implements fmt.GoStringer (%#v) without revealing the password.
func (d DSN) GoString() string { return "config.DSN(" + strconv.Quote(d.String()) + ")" }

// Format implements fmt.Formatter so that every verb prints the redacted form.
func (d DSN) Format(f fmt.State, verb rune) { format(f, verb, d.String(), d.GoString()) }

// LogValue implements slog.LogValuer.
func (d DSN) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalJSON encodes the redacted form.
func (d DSN) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// format prints safe (already redacted) for any verb, honouring flags and
// width; %#v prints goSyntax.
func format(f fmt.State, verb rune, safe, goSyntax string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goSyntax)
		return
	}
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), safe)
	default:
		fmt.Fprintf(f, "%%!%c(redacted)", verb)
	}
}

// redactDSN masks the password of a URL-form DSN and redacts anything else.
func redactDSN(s string) string {
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") {
		return redacted
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return redacted
	}
	// An '@' after the authority means a password with an unescaped '/', '?'
	// or '#' was split off into the path: the URL is not what it seems.
	if strings.Contains(u.EscapedPath()+u.RawQuery+u.EscapedFragment(), "@") {
		return redacted
	}
	u.RawQuery = redactQuery(u.RawQuery)
	u.Fragment, u.RawFragment = "", ""
	return u.Redacted()
}

// redactQuery masks the values of password-like query parameters, keeping
// the parameters' order.
func redactQuery(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if hasValue && sensitiveParam(k) {
			parts[i] = url.QueryEscape(k) + "=xxxxx"
		}
	}
	return strings.Join(parts, "&")
}

// sensitiveParam reports whether a DSN query parameter may carry a secret.
func sensitiveParam(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}
