// Package layout_test checks rules about the module's source tree that the
// compiler does not enforce.
package layout_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// moduleRoot is the directory of go.mod above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestUnsafeOnlyInUnsafeFiles keeps every use of package unsafe in a file
// named *_unsafe.go, so that a reviewer finds all of them by name: no
// other non-test file of the module may import it.
func TestUnsafeOnlyInUnsafeFiles(t *testing.T) {
	root := moduleRoot(t)
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
