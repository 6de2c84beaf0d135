package lead

import (
	"github.com/dqmhq/dqm/internal/config"
	"github.com/dqmhq/dqm/schemas"
)

// Worker is one planned worker: its label and the request tags it serves.
type Worker struct {
	Label string
	Tags  []string
}

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

// Plan is the launch plan: the Lead (00) with its kept tags, then one
// child per tag for each of its min workers (at least one while max > 0),
// numbered from 01 in tag order S M F C.
func Plan(db *config.Database) []Worker {
	kept := LeadTags(db)
	plan := []Worker{{Label: Label(db, 0, kept), Tags: kept}}
	n := 1
	for _, t := range db.Tags() {
		q := db.Queues[t]
		if q.Max == 0 {
			continue
		}
		for i := 0; i < max(q.Min, 1); i++ {
			plan = append(plan, Worker{Label: Label(db, n, []string{t}), Tags: []string{t}})
			n++
		}
	}
	return plan
}
