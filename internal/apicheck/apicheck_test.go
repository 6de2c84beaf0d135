package apicheck

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// root is the module's root, from this package's folder.
const root = "../.."

// TestPublicAPINamesNoInternalType: no exported function, method, field,
// interface method, type or typed variable of a public package names a
// type of an internal/ package, which an outside module could not name.
// It reads the source (go/parser), without type-checking: what it sees is
// what the signatures spell.
func TestPublicAPINamesNoInternalType(t *testing.T) {
	for _, dir := range []string{"client", "ingress", "schemas"} {
		t.Run(dir, func(t *testing.T) {
			for _, v := range violations(t, dir) {
				t.Error(v)
			}
		})
	}
	t.Run("engines", func(t *testing.T) {
		for _, dir := range publicDirs(t, "engines") {
			for _, v := range violations(t, dir) {
				t.Error(v)
			}
		}
	})
}

// publicDirs are dir and its sub-folders holding Go packages, outside
// internal/ and testdata/.
func publicDirs(t *testing.T, dir string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); name == "internal" || name == "testdata" {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, path)
		dirs = append(dirs, rel)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// violations lists, for the package in dir (relative to root), every
// exported declaration whose type names an internal/ package.
func violations(t *testing.T, dir string) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, checkFile(fset, f)...)
	}
	return out
}

// checkFile lists the exported declarations of f that name an internal/
// package.
func checkFile(fset *token.FileSet, f *ast.File) []string {
	c := checker{fset: fset, internal: internalImports(f)}
	if len(c.internal) == 0 {
		return nil
	}
	for _, d := range f.Decls {
		c.decl(d)
	}
	return c.found
}

// internalImports maps the names a file gives its internal/ imports to
// their paths.
func internalImports(f *ast.File) map[string]string {
	m := map[string]string{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if !strings.Contains(path+"/", "/internal/") {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		m[name] = path
	}
	return m
}

type checker struct {
	fset     *token.FileSet
	internal map[string]string // import name → path
	found    []string
}

func (c *checker) decl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
			return
		}
		c.check(d.Name.Name, d.Type)
	case *ast.GenDecl:
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() {
					c.typeSpec(s)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() && s.Type != nil {
						c.check(n.Name, s.Type)
					}
				}
			}
		}
	}
}

// typeSpec checks an exported type: a struct's exported (and embedded)
// fields, an interface's methods, anything else as a whole.
func (c *checker) typeSpec(s *ast.TypeSpec) {
	if s.TypeParams != nil {
		c.check(s.Name.Name, s.TypeParams)
	}
	var fields *ast.FieldList
	switch t := s.Type.(type) {
	case *ast.StructType:
		fields = t.Fields
	case *ast.InterfaceType:
		fields = t.Methods
	default:
		c.check(s.Name.Name, s.Type)
		return
	}
	for _, f := range fields.List {
		if len(f.Names) == 0 { // embedded: its exported members are the type's
			c.check(s.Name.Name, f.Type)
		}
		for _, n := range f.Names {
			if n.IsExported() {
				c.check(s.Name.Name+"."+n.Name, f.Type)
			}
		}
	}
}

// check records every internal/ type that node names.
func (c *checker) check(what string, node ast.Node) {
	ast.Inspect(node, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); ok {
			if path, ok := c.internal[x.Name]; ok {
				c.found = append(c.found, c.fset.Position(sel.Pos()).String()+": "+what+" names "+path+"."+sel.Sel.Name)
			}
		}
		return false
	})
}

// exportedRecv reports whether a method's receiver type is exported.
func exportedRecv(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	t := recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr: // a generic type's receiver
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}

// TestChecker: what the check finds and what it lets pass.
func TestChecker(t *testing.T) {
	const src = `package p

import (
	"context"

	"example.com/m/internal/cache"
	c2 "example.com/m/internal/catalog"
)

func Bad1(x *cache.Cache)                 {}
func Bad2() (map[string][]c2.Entry, error) { return nil, nil }
type Bad3 struct {
	Field func(cache.Answer)
	*cache.Cache
	hidden cache.Cache
}
type Bad4 interface{ M(context.Context) chan<- c2.Entry }
type Bad5 = cache.Cache
var Bad6 cache.Cache
type T struct{}
func (T) Bad7() cache.Cache { return cache.Cache{} }

func good(x cache.Cache) {}
func Good(ctx context.Context) error { _ = cache.New(); return nil }
type t struct{}
func (t) Exported(cache.Cache) {}
func (T) unexported(cache.Cache) {}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	found := strings.Join(checkFile(fset, f), "\n")
	for _, want := range []string{"Bad1 names", "Bad2 names", "Bad3.Field names", "Bad3 names", "Bad4.M names",
		"Bad5 names", "Bad6 names", "Bad7 names"} {
		if !strings.Contains(found, want) {
			t.Errorf("missed %q in:\n%s", want, found)
		}
	}
	if strings.Contains(found, "ood") || strings.Contains(found, "xported") || strings.Contains(found, "hidden") {
		t.Errorf("flagged what an outside module never sees:\n%s", found)
	}
}
