package ingress

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// maxNumericDate is 9999-12-31T23:59:59Z: a time claim past it (or before
// year 0) is no date at all, such as exp: 1e300.
const maxNumericDate = 253402300799

// claimError is a claim that is not what RFC 7519 says it is.
type claimError struct{ msg string }

func (e *claimError) Error() string { return e.msg }

// UnmarshalJSON reads the claims with the time claims strict: exp, nbf and
// iat must be NumericDates, JSON numbers of seconds since 1970 between
// years 0 and 9999 (jwt would read "1700000000", a string, as a date, and
// 1e300 as a time long past). A key matching one in another case counts:
// encoding/json would read "EXP" as exp.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for key, v := range raw {
		for _, name := range []string{"exp", "nbf", "iat"} {
			if strings.EqualFold(key, name) {
				if err := numericDate(key, v); err != nil {
					return err
				}
			}
		}
	}
	type plain Claims // the same fields, without this method
	return json.Unmarshal(b, (*plain)(c))
}

func numericDate(name string, v json.RawMessage) error {
	v = bytes.TrimSpace(v)
	if string(v) == "null" {
		return nil // absent: exp is then required by the parser
	}
	bad := &claimError{name + " claim is not a NumericDate: want seconds since 1970 as a JSON number (RFC 7519), got " + shown(string(v))}
	if len(v) == 0 || v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return bad
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return bad
	}
	return nil
}
