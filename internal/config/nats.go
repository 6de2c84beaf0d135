package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/dqmhq/dqm/schemas"
)

// NATS configures the JetStream connection. URL "embedded" runs an
// in-process server listening on Listen and storing in StoreDir; any other
// value is a client URL (or comma-separated list) and Listen and StoreDir are
// ignored.
//
// User and Password, Token, NKeySeedFile and Credentials are the ways dqm's
// connection authenticates (at most one); they are not used for an
// instance's own connection to its embedded server, which authenticates as
// an in-process user of its own (see Embedded), but they are what the CLI
// presents when it reaches an embedded server at Listen.
type NATS struct {
	URL      string `json:"url"`
	Listen   string `json:"listen"`
	StoreDir string `json:"store_dir"`
	User     string `json:"user"`
	Password Secret `json:"password"`
	Token    Secret `json:"token"`
	// NKeySeedFile is the path of a file holding an NKey user seed (SU...).
	NKeySeedFile string `json:"nkey_seed_file"`
	Credentials  string `json:"credentials"` // optional path to a .creds file
	// TLS is the client side: CA verifies the server (default: the system
	// roots), Cert and Key are the client certificate. Verification cannot
	// be turned off.
	TLS TLS `json:"tls"`
	// Embedded secures the embedded server; used only when URL is "embedded".
	Embedded Embedded `json:"embedded"`
	// ReplyPrefixes are the subject prefixes a request's reply inbox may
	// start with (default _INBOX.); see schemas.CheckReplySubject.
	ReplyPrefixes []string `json:"reply_prefixes"`
	// Sync is the embedded server's fsync policy for JetStream's files:
	// "always" (fsync before every acknowledgement) or an interval such as
	// "1s" (the default; nats-server's own default is 2m). See SyncPolicy.
	Sync string `json:"sync"`
	// SetupTimeoutMS bounds how long launch retries creating streams,
	// consumers and KV buckets while a NATS cluster forms or elects a
	// leader ("no suitable peers for placement"); then launch fails.
	SetupTimeoutMS int `json:"setup_timeout_ms"`
	// Replicas is how many copies JetStream keeps of every stream,
	// consumer and KV bucket dqm creates: 1, 3 or 5 (default 1; 3 is the
	// production floor on a cluster). Existing ones are updated in place
	// at start; more than the cluster has is a start-up error.
	Replicas int `json:"replicas"`
	// Placement, optional, places them in one cluster and on servers
	// with every tag listed.
	Placement Placement `json:"placement"`
}

// SetupTimeout returns SetupTimeoutMS as a duration.
func (n NATS) SetupTimeout() time.Duration { return ms(n.SetupTimeoutMS) }

// SyncPolicy reads Sync: always, or the interval between fsyncs.
func (n NATS) SyncPolicy() (always bool, every time.Duration, err error) {
	if n.Sync == "always" {
		return true, 0, nil
	}
	d, err := time.ParseDuration(n.Sync)
	if err != nil || d <= 0 {
		return false, 0, fmt.Errorf(`want "always" or a positive duration such as "1s"`)
	}
	return false, d, nil
}

// TLS holds optional PEM file paths for the NATS connection. Cert and Key
// must be set together.
type TLS struct {
	CA   string `json:"ca"`
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Embedded secures the embedded nats-server. TLS is the server side: Cert
// and Key are the server certificate, CA (optional) makes the server require
// and verify client certificates. Users, when any are given, make the server
// require authentication; each user may publish and subscribe only to the
// subjects listed (an absent list allows nothing).
type Embedded struct {
	TLS   TLS        `json:"tls"`
	Users []NATSUser `json:"users"`
	// Cluster, when Name is set, routes the embedded server into a NATS
	// cluster with other dqm instances' embedded servers (cluster.go).
	Cluster Cluster `json:"cluster"`
}

// NATSUser is one user of the embedded server and its subject permissions
// (NATS subjects, wildcards * and > allowed).
type NATSUser struct {
	User      string   `json:"user"`
	Password  Secret   `json:"password"`
	Publish   []string `json:"publish"`
	Subscribe []string `json:"subscribe"`
}

// Placement says where JetStream places dqm's streams, consumers and
// buckets: in Cluster (a cluster name; "" is the one dqm connects to), on
// servers that have every one of Tags. The zero value places nothing.
type Placement struct {
	Cluster string   `json:"cluster"`
	Tags    []string `json:"tags"`
}

// InProcessUser is the embedded server's user for an instance's own
// connection when nats.embedded.users is set: it gets a random password per
// start and may connect only in-process, so no configured user may take
// its name.
const InProcessUser = "dqm-in-process"

func (n *NATS) validate(ps *problems) {
	n.validateURL(ps)
	n.validateAuth(ps)
	pairTLS(ps, "nats.tls", n.TLS)
	// 0: one attempt, no waiting for a cluster to form.
	atLeast(ps, "nats.setup_timeout_ms", int64(n.SetupTimeoutMS), 0)
	n.validateReplication(ps)
	n.Embedded.validate(ps)
	n.validateReplyPrefixes(ps)
}

// validateURL checks nats.url and, for an embedded server, where it
// listens and stores.
func (n *NATS) validateURL(ps *problems) {
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
}

// validateAuth checks that user and password go together, and that one
// authentication method at most is set.
func (n *NATS) validateAuth(ps *problems) {
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
}

// validate checks the embedded server's TLS and users.
func (e *Embedded) validate(ps *problems) {
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
}

// validateReplyPrefixes checks the subjects replies may go to.
func (n *NATS) validateReplyPrefixes(ps *problems) {
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

// validateReplication checks nats.replicas and nats.placement. Replicas
// are odd, so a quorum survives losing a minority; 5 is JetStream's most.
func (n *NATS) validateReplication(ps *problems) {
	if !slices.Contains([]int{1, 3, 5}, n.Replicas) {
		ps.add("nats.replicas", "must be 1, 3 or 5, got %d", n.Replicas)
	}
	if c := n.Placement.Cluster; strings.ContainsAny(c, " \t\r\n.*>") {
		ps.add("nats.placement.cluster", "invalid cluster name %q (no whitespace, '.', '*' or '>')", c)
	}
	seen := map[string]bool{}
	for i, tag := range n.Placement.Tags {
		k := fmt.Sprintf("nats.placement.tags[%d]", i)
		switch {
		case tag == "" || strings.ContainsAny(tag, " \t\r\n"):
			ps.add(k, "invalid tag %q (non-empty, no whitespace)", tag)
		case seen[strings.ToLower(tag)]:
			ps.add(k, "duplicate tag %q", tag)
		}
		seen[strings.ToLower(tag)] = true
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
