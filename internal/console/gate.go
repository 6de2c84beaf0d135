package console

import (
	"net"
	"net/http"
	"strings"

	"github.com/dqmhq/dqm/schemas"
)

// Who may open the console. With auth configured, every data endpoint
// needs an admin token (ingress.REST.AdminOnly). Without auth it is served
// only on a loopback listener (Allowed), and only to requests addressed
// to a loopback host (Loopback), so a web page elsewhere cannot reach it
// through DNS rebinding. Either way a POST must come from the console's
// own origin (CrossOrigin).

// Allowed reports whether the console may be served: with auth, yes;
// without, only when http.listen is a loopback address. why says what
// to change when it may not.
func Allowed(authEnabled bool, listen string) (ok bool, why string) {
	if authEnabled {
		return true, ""
	}
	if host, _, err := net.SplitHostPort(listen); err == nil && loopback(host) {
		return true, ""
	}
	return false, "auth is not configured and http.listen " + listen + " is not a loopback address: " +
		"configure auth (auth.jwt_secret, auth.jwt_public_key_file or auth.jwks_file) and give operators tokens " +
		"carrying the admin claim (auth.admin_claim), or listen on 127.0.0.1"
}

// loopback reports whether host (no port) names this machine only.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// Loopback wraps h for a console without auth: a request whose Host is
// not a loopback name or address is refused 403.
func Loopback(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if hh, _, err := net.SplitHostPort(host); err == nil {
			host = hh
		}
		if !loopback(host) {
			fail(w, schemas.Errorf(schemas.CodeForbidden,
				"without auth the console answers only requests to a loopback host (127.0.0.1, [::1], localhost)"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// CrossOrigin wraps a POST handler: a browser request from another
// origin is refused 403 (net/http's CrossOriginProtection, from
// Sec-Fetch-Site and Origin), so no other page can make a browser replay
// or purge.
func CrossOrigin(h http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fail(w, schemas.Errorf(schemas.CodeForbidden, "cross-origin request refused: use the console's own page"))
	}))
	return p.Handler(h)
}

// Off answers every console path 404, saying why the console is off.
func Off(why string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fail(w, schemas.Errorf(schemas.CodeNotFound, "the console is off: "+why))
	})
}

// fail writes the contract's failure body for err.
func fail(w http.ResponseWriter, err error) {
	res := schemas.Failure("", 0, err)
	status := res.Status
	res.Status = 0
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(res.AppendJSON(nil))
}
