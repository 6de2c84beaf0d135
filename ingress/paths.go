package ingress

import "strings"

// cleanPath reports whether p is a path as http.ServeMux serves it
// without a redirect: absolute, no "." or ".." segment, no "//". The mux
// answers any other with a redirect whose body is HTML, which the
// contract has no place for; the REST adapter answers a JSON 404 instead.
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' || strings.Contains(p, "//") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
