package engines_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBoundary keeps engine knowledge in engines/: outside it no file
// imports a database driver or compares against an engine's name. Exempt:
// bench/, which measures the drivers directly, and test code (_test.go
// files and internal/testutil), which changes data behind dqm's back the
// way an application would.
func TestBoundary(t *testing.T) {
	drivers := []string{"github.com/jackc/pgx", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"}
	names := map[string]bool{`"postgres"`: true, `"mysql"`: true, `"sqlite"`: true, `"db2"`: true}
	root := ".."
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case "engines", "bench", filepath.Join("internal", "testutil"), ".git", ".tools", "vendor":
				return filepath.SkipDir
			}
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" {
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
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, drv := range drivers {
				if p == drv || strings.HasPrefix(p, drv+"/") {
					t.Errorf("%s: imports %s: driver code belongs in engines/", fset.Position(imp.Pos()), p)
				}
			}
		}
		isName := func(e ast.Expr) bool {
			lit, ok := e.(*ast.BasicLit)
			return ok && lit.Kind == token.STRING && names[lit.Value]
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CaseClause:
				for _, e := range n.List {
					if isName(e) {
						t.Errorf("%s: case %s: an engine-name switch belongs in engines/", fset.Position(e.Pos()), e.(*ast.BasicLit).Value)
					}
				}
			case *ast.BinaryExpr:
				if (n.Op == token.EQL || n.Op == token.NEQ) && (isName(n.X) || isName(n.Y)) {
					t.Errorf("%s: comparison with an engine name belongs in engines/", fset.Position(n.Pos()))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
