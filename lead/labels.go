package lead

import (
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// Label names worker n of db (00 is the Lead, carrying L).
func Label(db *config.Database, n int, tags []string) string {
	if n == 0 {
		tags = append([]string{schemas.TagLead}, tags...)
	}
	return schemas.Label(db.Name, n, tags)
}

// LeadTags are the tags the Lead keeps: every configured tag with max 0.
func LeadTags(db *config.Database) []string {
	var out []string
	for _, t := range db.Tags() {
		if db.Queues[t].Max == 0 {
			out = append(out, t)
		}
	}
	return out
}
