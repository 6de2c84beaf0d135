package console

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/dqmhq/dqm/schemas"
)

// The pages are rendered here — navigation, headings, what each page
// shows, the token form — and filled by assets/console.js from the data
// endpoints. Everything is embedded: nothing loads from outside.

//go:embed assets
var files embed.FS

var tmpl = template.Must(template.ParseFS(files, "assets/page.html"))

// pageInfo is one page of the console.
type pageInfo struct {
	Name, Path, Title, Lede string
}

var pages = []pageInfo{
	{"overview", "/console", "Overview", "Every database: engine, health, who holds the Lead, how fresh its heartbeat is, and its request stream's replicas and leader."},
	{"queues", "/console/queues", "Queues and workers", "Per queue: bounds, the Lead's plan, workers running, pending and ack-pending requests, depth and throughput over the last 15 minutes, and scaling decisions as they happen."},
	{"requests", "/console/requests", "Requests", "This instance's answers per database and queue: throughput, latency percentiles over the last 10 seconds, errors by code; and its REST routes."},
	{"cache", "/console/cache", "Cache", "This instance's result cache per database: entries, hit ratio, invalidations, evictions, and drops after a missed invalidation."},
	{"changes", "/console/changes", "Changes", "A live tail of the change stream (DQM_CHANGES), filtered by database and table."},
	{"deadletters", "/console/deadletters", "Dead letters", "Requests that exhausted their deliveries, panicked or could not be answered (DQM_DLQ): replay them to their queue or purge them."},
	{"catalog", "/console/catalog", "Catalog", "Every entry of a database's catalog, with a form to try it."},
}

type pageData struct {
	Page       pageInfo
	Pages      []pageInfo
	Auth       string
	AdminClaim string
	Instance   string
}

func (c *Console) page(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("page")
	if name == "" {
		name = "overview"
	}
	var p *pageInfo
	for i := range pages {
		if pages[i].Name == name && (name != "overview" || r.URL.Path == "/console") {
			p = &pages[i]
		}
	}
	if p == nil {
		fail(w, schemas.Errorf(schemas.CodeNotFound, "no console page "+r.URL.Path))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	tmpl.Execute(w, pageData{Page: *p, Pages: pages, Auth: c.cfg.AuthMode, AdminClaim: c.cfg.AdminClaim, Instance: c.cfg.Instance})
}

// csp lets the page load only its own script and style and talk only to
// its own origin; no frame may hold it.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// assets serves assets/ under /console/assets/.
func assets() http.Handler {
	sub, _ := fs.Sub(files, "assets")
	fsrv := http.StripPrefix("/console/assets/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p != "/console/assets/console.js" && p != "/console/assets/console.css" {
			fail(w, schemas.Errorf(schemas.CodeNotFound, "no console asset "+p))
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
}
