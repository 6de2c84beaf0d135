package schemas

import (
	"regexp"
	"strconv"
	"strings"
)

// Queue tags. A request subject ends in one of them; the Lead additionally
// carries TagLead.
const (
	TagSlow   = "slow"
	TagMedium = "medium"
	TagFast   = "fast"
	TagCache  = "cache"
	TagLead   = "lead"
)

// Tags are the request queue tags in their fixed order (S, M, F, C).
var Tags = []string{TagSlow, TagMedium, TagFast, TagCache}

// TagLetter is the one-letter form used in queue labels.
var TagLetter = map[string]string{TagLead: "L", TagSlow: "S", TagMedium: "M", TagFast: "F", TagCache: "C"}

// IsTag reports whether tag is one of the four request queue tags.
func IsTag(tag string) bool {
	switch tag {
	case TagSlow, TagMedium, TagFast, TagCache:
		return true
	}
	return false
}

var dbName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidDatabaseName reports whether name is a legal database name.
func ValidDatabaseName(name string) bool { return dbName.MatchString(name) }

// RequestSubject is where requests for a database's queue are published.
func RequestSubject(db, tag string) string { return "db." + db + "." + tag }

// RequestSubjects are the subjects the database's request stream captures:
// only the four queue tags, never replies, heartbeats or invalidations.
func RequestSubjects(db string) []string {
	s := make([]string, len(Tags))
	for i, t := range Tags {
		s[i] = RequestSubject(db, t)
	}
	return s
}

// Direct is the direct read lane: the last token of DirectSubject, and
// the tag its requests are counted under (metrics, queue_used). It is not
// a queue tag: no stream captures it and no catalog entry is queued on it.
const Direct = "direct"

// DirectSubject is where a database's direct reads are requested, over
// core NATS request/reply (no stream captures it: RequestSubjects names
// only the four queues). Every worker of a database with direct entries
// serves it as one instance of the micro service DirectService, in the
// service's default queue group, and answers to the NATS reply subject.
func DirectSubject(db string) string { return "db." + db + "." + Direct }

// DirectService is the nats.go micro service name of a database's direct
// lane ("nats micro ls" lists one instance per worker).
func DirectService(db string) string { return "dqm_" + db }

// DirectEndpoint is the name of the direct lane's one micro endpoint.
const DirectEndpoint = "query"

// StreamName is the JetStream stream holding a database's requests.
func StreamName(db string) string { return "DQM_" + strings.ToUpper(db) }

// ConsumerName is the durable pull consumer the workers of a tag share.
func ConsumerName(db, tag string) string { return db + "-" + tag }

// HeartbeatSubject carries the Lead's heartbeats (core NATS).
func HeartbeatSubject(db string) string { return "dqm." + db + ".heartbeat" }

// InvalidateSubject carries cache invalidations for a table (core NATS).
func InvalidateSubject(db, table string) string { return "dqm." + db + ".invalidate." + table }

// WatermarkToken is the last part of WatermarkSubject, after
// "dqm.<name>.invalidate.": two tokens, so no table's subject token (one
// token, no dots) can be it.
const WatermarkToken = "_dqm.watermark"

// WatermarkSubject carries the invalidation watermarks of a database (core
// NATS). It is under the invalidation subjects on purpose: a cache's one
// subscription (dqm.*.invalidate.>) receives a publisher's watermarks and
// invalidations in the order they were published.
func WatermarkSubject(db string) string { return "dqm." + db + ".invalidate." + WatermarkToken }

// ChangesSubject carries change events (JetStream stream ChangesStream).
func ChangesSubject(db, table, op string) string {
	return "dqm." + db + ".changes." + table + "." + op
}

// ChangesFilter is the subject filter of a database's change events: all
// of them, or one table's (table "").
func ChangesFilter(db, table string) string {
	if table == "" {
		return "dqm." + db + ".changes.>"
	}
	return "dqm." + db + ".changes." + table + ".*"
}

// DLQSubject receives requests that exhausted redelivery, panicked, or
// could not be answered; stream DLQStream keeps them.
func DLQSubject(db string) string { return "dqm." + db + ".dlq" }

// Stream and bucket names shared by every database.
const (
	ChangesStream = "DQM_CHANGES"
	DLQStream     = "DQM_DLQ"
	BucketCatalog = "dqm_catalog"
	BucketLeaders = "dqm_leaders"
	BucketStatus  = "dqm_status"
)

// Label is a worker's queue label, DQM-<Database>-<NN>-<Tags>, where tags
// are letters in the order L S M F C; 00 is always the Lead.
func Label(db string, n int, tags []string) string {
	var letters strings.Builder
	for _, t := range []string{TagLead, TagSlow, TagMedium, TagFast, TagCache} {
		for _, have := range tags {
			if have == t {
				letters.WriteString(TagLetter[t])
			}
		}
	}
	name := strings.ToUpper(db[:1]) + db[1:]
	return "DQM-" + name + "-" + twoDigits(n) + "-" + letters.String()
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + string(rune('0'+n))
	}
	return strconv.Itoa(n)
}

// Engine names, as databases.<name>.engine and the status body spell them.
const (
	EnginePostgres = "postgres"
	EngineMySQL    = "mysql"
	EngineSQLite   = "sqlite"
	EngineDB2      = "db2"
)

// Engines are every engine name dqm knows, whether or not this binary links it.
var Engines = []string{EnginePostgres, EngineMySQL, EngineSQLite, EngineDB2}

// DefaultReplyPrefixes are the subjects a reply may go to when the config
// names none (nats.reply_prefixes): NATS inboxes.
var DefaultReplyPrefixes = []string{"_INBOX."}

// CheckReplySubject reports whether dqm may publish a reply to subject: it
// starts with one of prefixes, has no wildcard, whitespace or empty token,
// and never starts with "$" (JetStream API, KV), "db." (request queues) or
// "dqm." (heartbeats, changes, invalidations, dead letters), whatever the
// prefixes say. A requester chooses its inbox, never where dqm publishes.
func CheckReplySubject(subject string, prefixes []string) error {
	bad := func(why string) error {
		return Errorf(CodeBadRequest, "reply subject "+strconv.Quote(truncate(subject, 80))+": "+why)
	}
	switch {
	case subject == "":
		return bad("missing")
	case len(subject) > 255:
		return bad("longer than 255 bytes")
	case strings.HasPrefix(subject, "$"), strings.HasPrefix(subject, "db."), strings.HasPrefix(subject, "dqm."):
		return bad("reserved subject")
	}
	allowed := false
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(subject, p) {
			allowed = true
			break
		}
	}
	if !allowed {
		return bad("not an allowed reply prefix (" + strings.Join(prefixes, ", ") + ")")
	}
	tokenStart := true
	for i := 0; i < len(subject); i++ {
		switch c := subject[i]; {
		case c == '.':
			if tokenStart {
				return bad("empty token")
			}
			tokenStart = true
			continue
		case c == '*' || c == '>':
			return bad("wildcard")
		case c <= ' ' || c == 0x7f:
			return bad("whitespace or control character")
		}
		tokenStart = false
	}
	if tokenStart {
		return bad("empty token")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
