package engines_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dqmhq/dqm/engines"
	"github.com/dqmhq/dqm/internal/params"
)

// TestAPINamesNoInternal keeps engines an extension point: no exported
// identifier of engines/ or its public subpackages (enginetest, each
// engine) names a type of an internal/ package, which a module outside
// dqm could not name. Every build tag is read (db2.go included).
func TestAPINamesNoInternal(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "internal" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, n := range internalNames(f) {
			t.Errorf("%s: exported API names %s, an internal/ package's: a module outside dqm cannot", fset.Position(n.Pos()), n.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// internalNames returns the uses, in f's exported declarations, of the
// names f imports internal/ packages under.
func internalNames(f *ast.File) []*ast.Ident {
	internal := map[string]bool{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !slices.Contains(strings.Split(p, "/"), "internal") {
			continue
		}
		name := p[strings.LastIndexByte(p, '/')+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		internal[name] = true
	}
	var found []*ast.Ident
	check := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && internal[x.Name] {
					found = append(found, x)
				}
			case *ast.Field:
				// A struct's or interface's unexported member is not API; an
				// embedded one is, by its type's name.
				if len(n.Names) > 0 && !slices.ContainsFunc(n.Names, func(id *ast.Ident) bool { return id.IsExported() }) {
					return false
				}
			}
			return true
		})
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) {
				if d.Recv != nil {
					check(d.Recv)
				}
				check(d.Type)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						check(s.Type)
					}
				case *ast.ValueSpec:
					if slices.ContainsFunc(s.Names, func(id *ast.Ident) bool { return id.IsExported() }) {
						if s.Type != nil {
							check(s.Type)
						}
						for _, v := range s.Values {
							check(v)
						}
					}
				}
			}
		}
	}
	return found
}

func exportedRecv(recv *ast.FieldList) bool {
	typ := recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	switch t := typ.(type) {
	case *ast.IndexExpr:
		typ = t.X
	case *ast.IndexListExpr:
		typ = t.X
	}
	id, ok := typ.(*ast.Ident)
	return ok && id.IsExported()
}

// TestPlaceholderStyleMatchesParams: the catalog compiler converts an
// engine's PlaceholderStyle to params.Style by value (params is internal
// and imports nothing of engines), so the two must number alike.
func TestPlaceholderStyleMatchesParams(t *testing.T) {
	if params.Style(engines.Dollar) != params.Dollar || params.Style(engines.Question) != params.Question {
		t.Fatalf("engines Dollar %d Question %d, params Dollar %d Question %d",
			engines.Dollar, engines.Question, params.Dollar, params.Question)
	}
}
