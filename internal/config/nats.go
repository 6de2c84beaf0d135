package config

import (
	"fmt"
	"os"
	"strings"

	"github.com/dqmhq/dqm/schemas"
)

// InProcessUser is the embedded server's user for an instance's own
// connection when nats.embedded.users is set: it gets a random password per
// start and may connect only in-process, so no configured user may take
// its name.
const InProcessUser = "dqm-in-process"

func (n *NATS) validate(ps *problems) {
	switch {
	case n.URL == "":
		ps.add("nats.url", `required ("embedded" or a NATS server URL)`)
	case n.URL == "embedded":
		hostPort(ps, "nats.listen", n.Listen)
		if n.StoreDir == "" {
			ps.add("nats.store_dir", `required when nats.url is "embedded"`)
		}
		if _, _, err := n.SyncPolicy(); err != nil {
			ps.add("nats.sync", "%q: %v", n.Sync, err)
		}
	default:
		for _, u := range strings.Split(n.URL, ",") {
			if !validNATSURL(strings.TrimSpace(u)) {
				// The URL may hold credentials: do not echo it.
				ps.add("nats.url", `invalid URL (want "embedded" or nats://, tls://, ws:// or wss:// URLs, comma-separated)`)
				break
			}
		}
		if len(n.Embedded.Users) > 0 || n.Embedded.TLS != (TLS{}) || !n.Embedded.Cluster.empty() {
			ps.add("nats.embedded", `set only when nats.url is "embedded"`)
		}
	}

	// Authentication: user and password go together, and one method only.
	switch {
	case n.User != "" && n.Password == "":
		ps.add("nats.password", "required when nats.user is set")
	case n.User == "" && n.Password != "":
		ps.add("nats.user", "required when nats.password is set")
	}
	var methods []string
	for _, m := range []struct{ key, val string }{
		{"nats.user", n.User + n.Password.Reveal()},
		{"nats.token", n.Token.Reveal()},
		{"nats.nkey_seed_file", n.NKeySeedFile},
		{"nats.credentials", n.Credentials},
	} {
		if m.val != "" {
			methods = append(methods, m.key)
		}
	}
	if len(methods) > 1 {
		for _, k := range methods[1:] {
			ps.add(k, "cannot be used together with %s (one authentication method)", methods[0])
		}
	}
	pairTLS(ps, "nats.tls", n.TLS)
	// 0: one attempt, no waiting for a cluster to form.
	atLeast(ps, "nats.setup_timeout_ms", int64(n.SetupTimeoutMS), 0)
	if r := n.Replicas; r != 1 && r != 3 && r != 5 {
		ps.add("nats.replicas", "%d: want 1, 3 or 5", r)
	}

	e := n.Embedded
	e.Cluster.validate(ps)
	pairTLS(ps, "nats.embedded.tls", e.TLS)
	if e.TLS.CA != "" && e.TLS.Cert == "" {
		ps.add("nats.embedded.tls.cert", "required when nats.embedded.tls.ca is set (client verification needs server TLS)")
	}
	seen := map[string]bool{}
	for i, u := range e.Users {
		k := fmt.Sprintf("nats.embedded.users[%d]", i)
		switch {
		case u.User == "":
			ps.add(k+".user", "required")
		case strings.ContainsAny(u.User, " \t\r\n"):
			ps.add(k+".user", "must not contain whitespace")
		case u.User == InProcessUser:
			ps.add(k+".user", "%q is reserved for dqm's own in-process connection", InProcessUser)
		case seen[u.User]:
			ps.add(k+".user", "duplicate user %q", u.User)
		}
		seen[u.User] = true
		if u.Password == "" {
			ps.add(k+".password", "required")
		}
		for j, s := range u.Publish {
			if !validSubjectPattern(s) {
				ps.add(fmt.Sprintf("%s.publish[%d]", k, j), "invalid subject %q (tokens separated by \".\", wildcards * and a final >)", s)
			}
		}
		for j, s := range u.Subscribe {
			if !validSubjectPattern(s) {
				ps.add(fmt.Sprintf("%s.subscribe[%d]", k, j), "invalid subject %q (tokens separated by \".\", wildcards * and a final >)", s)
			}
		}
	}

	if len(n.ReplyPrefixes) == 0 {
		ps.add("nats.reply_prefixes", "at least one prefix required (default [\"_INBOX.\"])")
	}
	for i, p := range n.ReplyPrefixes {
		// A prefix is checked as a subject would be, so a prefix that lets
		// a reply reach the JetStream API, a queue or dqm's own subjects is
		// refused at start.
		if err := schemas.CheckReplySubject(p+"x", []string{p}); err != nil || !strings.HasSuffix(p, ".") {
			ps.add(fmt.Sprintf("nats.reply_prefixes[%d]", i), "%q: want a subject prefix ending in \".\" outside $, db. and dqm. (e.g. _INBOX.)", p)
		}
	}
}

// pairTLS checks that a TLS block's cert and key are set together.
func pairTLS(ps *problems, key string, t TLS) {
	if (t.Cert == "") != (t.Key == "") {
		if t.Cert == "" {
			ps.add(key+".cert", "required when %s.key is set", key)
		} else {
			ps.add(key+".key", "required when %s.cert is set", key)
		}
	}
}

// validSubjectPattern accepts a NATS subject in which * may stand for one
// token and a final > for the rest.
func validSubjectPattern(s string) bool {
	if s == "" || len(s) > 255 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		switch {
		case t == "":
			return false
		case t == ">" && i != len(toks)-1:
			return false
		case len(t) > 1 && strings.ContainsAny(t, "*>"):
			return false
		}
	}
	return true
}

// checkFiles reports every file named under nats that cannot be read. It is
// the one check that touches the file system, so Load runs it and
// Parse and Validate do not.
func (n *NATS) checkFiles(ps *problems) {
	files := []struct{ key, path string }{
		{"nats.nkey_seed_file", n.NKeySeedFile},
		{"nats.credentials", n.Credentials},
		{"nats.tls.ca", n.TLS.CA},
		{"nats.tls.cert", n.TLS.Cert},
		{"nats.tls.key", n.TLS.Key},
	}
	if n.URL == "embedded" {
		files = append(files, []struct{ key, path string }{
			{"nats.embedded.tls.ca", n.Embedded.TLS.CA},
			{"nats.embedded.tls.cert", n.Embedded.TLS.Cert},
			{"nats.embedded.tls.key", n.Embedded.TLS.Key},
		}...)
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		switch st, err := os.Stat(f.path); {
		case err != nil:
			ps.add(f.key, "file %q: %v", f.path, unwrapPath(err))
		case st.IsDir():
			ps.add(f.key, "file %q: is a directory", f.path)
		}
	}
}

// unwrapPath drops the path from an *fs.PathError, which the message
// already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
