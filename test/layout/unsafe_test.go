// Package layout_test checks rules about the module's source tree that the
// compiler does not enforce.
package layout_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

// TestUnsafeOnlyInUnsafeFiles keeps every use of package unsafe in a file
// named *_unsafe.go, so that a reviewer finds all of them by name: no
// other non-test file of the module may import it.
func TestUnsafeOnlyInUnsafeFiles(t *testing.T) {
	root := testutil.ModuleRoot(t)
	fset := token.NewFileSet()
	parsed, unsafeFiles := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "vendor" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		parsed++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p != "unsafe" {
				continue
			}
			if strings.HasSuffix(name, "_unsafe.go") {
				unsafeFiles++
				continue
			}
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s imports \"unsafe\"; only *_unsafe.go files may", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The spawn package's raw child needs unsafe: a walk that found no
	// such file, or hardly any Go at all, looked in the wrong place.
	if parsed < 50 || unsafeFiles == 0 {
		t.Fatalf("parsed %d files, %d *_unsafe.go importing unsafe: the walk missed the module", parsed, unsafeFiles)
	}
}
