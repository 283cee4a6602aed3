package layout_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

// publicPackages lists the module's library packages: every package that
// is not internal, a command, a benchmark or a test.
func publicPackages(t *testing.T, goTool, root string) []string {
	t.Helper()
	cmd := exec.Command(goTool, "list", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		rel := strings.TrimPrefix(p, "github.com/nsxproject/nsx")
		if strings.Contains(rel, "/internal") || strings.HasPrefix(rel, "/cmd/") ||
			strings.HasPrefix(rel, "/bench") || strings.HasPrefix(rel, "/test/") {
			continue
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestGoDocShowsNoInternalTypes keeps the public API free of types an
// importer cannot use or should not need: go doc of a public package must
// mention no internal package (an importer cannot name its types) and no
// golang.org/x/sys/unix identifier (the API speaks os and syscall, as
// os/exec does).
func TestGoDocShowsNoInternalTypes(t *testing.T) {
	goTool := testutil.RequireTool(t, "go")
	root := testutil.ModuleRoot(t)
	entries, err := os.ReadDir(filepath.Join(root, "internal"))
	if err != nil {
		t.Fatal(err)
	}
	var internal []string
	for _, e := range entries {
		if e.IsDir() {
			internal = append(internal, regexp.QuoteMeta(e.Name()))
		}
	}
	// A use of an identifier: "spawn.Process", "unix.WaitStatus"; an
	// import path: ".../nsx/internal/spawn".
	forbidden := regexp.MustCompile(`\b(unix|` + strings.Join(internal, "|") + `)\.[A-Za-z_]|nsx/internal\b`)

	pkgs := publicPackages(t, goTool, root)
	for _, want := range []string{"nsenter", "namespace", "target", "container", "procfs", "listing"} {
		found := false
		for _, p := range pkgs {
			found = found || strings.HasSuffix(p, "/"+want)
		}
		if !found {
			t.Errorf("public package %s missing from %v", want, pkgs)
		}
	}
	for _, p := range pkgs {
		cmd := exec.Command(goTool, "doc", "-all", p)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("go doc -all %s: %v\n%s", p, err, out)
			continue
		}
		if len(out) == 0 {
			t.Errorf("go doc -all %s printed nothing", p)
		}
		for i, line := range strings.Split(string(out), "\n") {
			if forbidden.MatchString(line) {
				t.Errorf("go doc %s, line %d: %s", p, i+1, strings.TrimSpace(line))
			}
		}
	}
}
