package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/dqmhq/dqm/internal/config"
)

// What the CLI says when something goes wrong: where the value that did
// not work came from, and a likely fix.

// groups are the first words of the commands that have subcommands
// (dlq ls, catalog check), in order.
func groups() []string {
	var out []string
	for _, c := range commands() {
		if w := strings.Fields(c.name); len(w) > 1 && !slices.Contains(out, w[0]) {
			out = append(out, w[0])
		}
	}
	return out
}

// groupUsage lists a group's subcommands.
func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "usage: dqm %s <subcommand> [args]\n\nsubcommands:\n", group)
	for _, c := range commands() {
		if strings.HasPrefix(c.name, group+" ") {
			fmt.Fprintf(w, "  %-34s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
		}
	}
}

// unknown reports an unknown command, suggesting the closest one (within
// two edits, or a command it starts) if any.
func unknown(w io.Writer, args []string) {
	word, choices := args[0], topWords()
	name := word
	if slices.Contains(groups(), args[0]) && len(args) > 1 {
		word, name = args[1], args[0]+" "+args[1]
		choices = nil
		for _, c := range commands() {
			if sub, ok := strings.CutPrefix(c.name, args[0]+" "); ok {
				choices = append(choices, sub)
			}
		}
	}
	fmt.Fprintf(w, "dqm: unknown command %q", name)
	if s := closest(word, choices); s != "" {
		if name != word {
			s = args[0] + " " + s
		}
		fmt.Fprintf(w, "; did you mean %q?", s)
	}
	fmt.Fprintln(w, " (dqm help lists the commands)")
}

func topWords() []string {
	var out []string
	for _, c := range commands() {
		if w := strings.Fields(c.name)[0]; !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// closest is the choice nearest to word: a prefix of it or one it
// prefixes, else the fewest edits, at most two; "" if none is close.
func closest(word string, choices []string) string {
	best, bestD := "", 3
	for _, c := range choices {
		d := config.EditDistance(word, c)
		if len(word) >= 2 && strings.HasPrefix(c, word) {
			d = 1
		}
		if d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// natsError explains a NATS the CLI could not reach: the URL it tried, and
// the key and variable that set it.
func natsError(cfg *config.Config, path string, err error) string {
	url, key := cfg.NATS.URL, "nats.url (DQM_NATS_URL)"
	if url == "embedded" {
		// A CLI reaches an instance's embedded server at its listen address.
		url, key = "nats://"+cfg.NATS.Listen, "nats.listen (DQM_NATS_LISTEN)"
	}
	msg := strings.TrimPrefix(err.Error(), "nats: ")
	return fmt.Sprintf("dqm: cannot reach NATS at %s: %s\n  is a dqm serve running there? The address is %s in %s.", url, msg, key, configName(path))
}

// configName names where the configuration came from, for messages.
func configName(path string) string {
	if path == "" {
		return config.DefaultPath + " (or the defaults, when it does not exist)"
	}
	return path
}

// portsInUse names the listen addresses of cfg that another process
// holds, each with its key: why dqm serve could not start.
func portsInUse(cfg *config.Config) []string {
	type addr struct{ key, hostport string }
	addrs := []addr{{"http.listen (DQM_HTTP_LISTEN)", cfg.HTTP.Listen}}
	if cfg.NATS.URL == "embedded" {
		addrs = append([]addr{{"nats.listen (DQM_NATS_LISTEN)", cfg.NATS.Listen}}, addrs...)
	}
	var out []string
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a.hostport)
		if err == nil {
			ln.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			out = append(out, fmt.Sprintf("%s is in use by another process (another dqm serve?): stop it, or set %s", a.hostport, a.key))
		}
	}
	return out
}

// printable escapes what a terminal would act on (control characters,
// invalid UTF-8) in text that comes from the wire (a request's ce-id, its
// subject), so an operator's screen shows it rather than obeys it.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}
