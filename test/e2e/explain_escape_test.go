package e2e

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

// TestExplainEscapesTargetStrings gives a target a $SHELL holding a
// terminal escape (an OSC title change) and a newline, and checks that
// `nsx enter -e --explain`, which prints the target's $SHELL as the shell
// it would run, shows them as \xHH escapes: a target must not be able to
// drive the operator's terminal or forge a line of the plan.
func TestExplainEscapesTargetStrings(t *testing.T) {
	testutil.RequireRoot(t)
	_, nsenterBin := diffBins(t)
	nsx := filepath.Join(filepath.Dir(nsenterBin), "nsx")
	hostile := "/bin/\x1b]0;review-pwned\x07sh\nprogram: forged"
	target := exec.Command("sleep", "300")
	target.Env = []string{"SHELL=" + hostile, "PATH=/usr/bin:/bin"}
	if err := target.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { target.Process.Kill(); target.Wait() })
	out, err := exec.Command(nsx, "enter", "--explain", "-e", "-u", "-t", strconv.Itoa(target.Process.Pid)).CombinedOutput()
	if err != nil {
		t.Fatalf("nsx enter --explain: %v\n%s", err, out)
	}
	s := string(out)
	if strings.ContainsAny(s, "\x1b\x07") || strings.Contains(s, "\nprogram: forged") {
		t.Fatalf("the target's $SHELL reached the terminal unescaped:\n%q", s)
	}
	if want := `/bin/\x1b]0;review-pwned\x07sh\x0aprogram: forged`; !strings.Contains(s, want) {
		t.Fatalf("plan lacks %q:\n%s", want, s)
	}
}
