package listing

import (
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"testing"
)

// listing is a data model; the join engine reaches it only as a value
// (Enter), so that ls, ps and inspect do not link nsenter's planning.
func TestListingDoesNotImportNsenter(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sources: %v", err)
	}
	fset := gotoken.NewFileSet()
	for _, f := range files {
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if path == "github.com/nsxproject/nsx/nsenter" || path == "github.com/nsxproject/nsx/internal/spawn" {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
