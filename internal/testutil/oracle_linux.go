package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// OracleDir is where scripts/oracle.sh installs util-linux 2.41.5 (Debian
// trixie's build), beside the system's 2.38: wrappers named nsenter, lsns and
// unshare that run trixie's binaries with trixie's loader and libraries.
const OracleDir = "/opt/util-linux-2.41/bin"

// Oracle returns the path of util-linux 2.41.5's tool (nsenter, lsns or
// unshare), failing in CI or skipping elsewhere when it is not installed
// (`make test` installs it).
func Oracle(t testing.TB, tool string) string {
	t.Helper()
	p := filepath.Join(OracleDir, tool)
	out, err := exec.Command(p, "-V").Output()
	Require(t, err == nil && strings.Contains(string(out), "util-linux 2.41.5"),
		"util-linux 2.41.5 "+tool+" in "+OracleDir+" (bash scripts/oracle.sh install)")
	return p
}

// OracleAs returns a directory holding a symlink named name to the 2.41.5
// oracle's tool, for tests that compare messages prefixed with argv[0].
func OracleAs(t testing.TB, tool, name string) string {
	t.Helper()
	p := Oracle(t, tool)
	if name == tool {
		return p
	}
	dir := t.TempDir()
	link := filepath.Join(dir, name)
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	return link
}
