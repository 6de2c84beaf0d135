package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"
)

// filters are -paths and -queries: which rows of the engine tables are
// measured. -paths also picks the paths of -mem-requests and -soak; the
// baselines and the fsync comparison have flags of their own.
type filters struct {
	// paths and queries are the selected ones, in the report's order.
	paths, queries []string
	// pathsFlag and queriesFlag are the flags as given.
	pathsFlag, queriesFlag string
}

// allQueries are the queries in the report's order.
var allQueries = []string{qPoint, qRange}

func (f *filters) register(fs *flag.FlagSet) {
	fs.StringVar(&f.pathsFlag, "paths", "all", "paths to measure, comma-separated ("+strings.Join(rowPaths, ", ")+"); a ratio whose baseline row is filtered out is left empty (–). Also picks the paths of -mem-requests and -soak")
	fs.StringVar(&f.queriesFlag, "queries", strings.Join(allQueries, ","), "queries of the engine tables, comma-separated (point, range); -mem-requests and -soak always run the point query")
}

// parse checks the flags and fills paths and queries.
func (f *filters) parse() error {
	var err error
	if f.paths, err = pick("-paths", f.pathsFlag, rowPaths); err != nil {
		return err
	}
	f.queries, err = pick("-queries", f.queriesFlag, allQueries)
	return err
}

// pick is the names of a comma-separated list ("all" or "": every one),
// each one of known, in the order of known.
func pick(name, list string, known []string) ([]string, error) {
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return known, nil
	}
	var want []string
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("%s: unknown %q (want all or some of %s)", name, s, strings.Join(known, ", "))
		}
		want = append(want, s)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("%s: no names in %q", name, list)
	}
	var out []string
	for _, k := range known {
		if slices.Contains(want, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// want says whether path is measured.
func (f *filters) want(path string) bool { return slices.Contains(f.paths, path) }

// wanted are the paths of ps that are measured.
func (f *filters) wanted(ps []string) []string {
	return slices.DeleteFunc(slices.Clone(ps), func(p string) bool { return !f.want(p) })
}

// filtered says whether -paths or -queries leave something out.
func (f *filters) filtered() bool {
	return len(f.paths) < len(rowPaths) || len(f.queries) < len(allQueries)
}

// selected are the scenarios of the paths measured.
func (f *filters) selected(scs []scenario) []scenario {
	return slices.DeleteFunc(scs, func(sc scenario) bool { return !f.want(sc.res.path) })
}

// targetModes are the modes of the dqm instances an engine needs: none
// when every path measured is one that runs without dqm (then
// -mem-requests and -soak have no path either).
func (b *bench) targetModes() []string {
	for _, p := range b.o.paths {
		if !slices.Contains(noDQM, p) {
			return b.o.modes
		}
	}
	return nil
}

// noDQM are the paths that need no dqm instance.
var noDQM = []string{pathDirect, pathIdeal, pathIdealHTTP, pathFloor}
