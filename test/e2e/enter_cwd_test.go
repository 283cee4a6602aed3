package e2e

// The working-directory escape: a program whose cwd lies outside its root
// lets every process in its namespaces walk /proc/PID/cwd/.. to the host's
// root (the CVE-2024-21626 class). nsx enter refuses it; the nsenter
// personality keeps util-linux's -w semantics.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

func TestEnterRefusesCwdOutsideRoot(t *testing.T) {
	oracle := testutil.OracleAs(t, "nsenter", "nsenter")
	_, nsx := diffBins(t)
	nsxEnter := nsx[:len(nsx)-len("nsenter")] + "nsx"
	tg := testutil.Start(t, []string{"--mount", "--propagation", "private"}, `echo ready > "$READY"; exec sleep 1000`)
	T := fmt.Sprint(tg.PID)
	probe := []string{"--", "readlink", "/proc/self/cwd"}
	refused := func(args ...string) {
		t.Helper()
		r := ctrRun(t, nsxEnter, append(append([]string{"enter"}, args...), probe...)...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "-W/--wdns") {
			t.Errorf("nsx enter %q: rc=%d stdout=%q stderr=%q; want one line pointing to -W/--wdns, exit 1, no program", args, r.code, r.stdout, r.stderr)
		}
	}
	runs := func(want string, args ...string) {
		t.Helper()
		r := ctrRun(t, nsxEnter, append(append([]string{"enter"}, args...), probe...)...)
		if r.code != 0 || r.stdout != want+"\n" {
			t.Errorf("nsx enter %q: rc=%d stdout=%q stderr=%q; want cwd %s", args, r.code, r.stdout, r.stderr, want)
		}
	}
	// A host directory, through the thread path and the raw child.
	refused("-t", T, "-m", "-w/tmp")
	refused("-t", T, "-m", "--wd=/tmp", "-S", "0")
	refused("-t", T, "-a", "--wd=/tmp")
	// The same directory reached through the target's root is inside it.
	runs("/tmp", "-t", T, "-m", "--wd=/proc/"+T+"/root/tmp")
	runs("/tmp", "-t", T, "-m", "--wdns=/tmp")
	runs("/", "-t", T, "-m")
	// No mount namespace entered: the host's root, so a host directory is
	// inside it.
	runs("/tmp", "-t", T, "-u", "-w/tmp")

	// The nsenter personality does what 2.41 does: the program runs with
	// the caller's directory.
	for _, args := range [][]string{{"-t", T, "-m", "-w/tmp"}, {"-t", T, "-m", "-S", "0", "-w/tmp"}} {
		args = append(args, probe...)
		ul, nx := diffRun(t, oracle, diffOpts{}, args...), diffRun(t, nsx, diffOpts{}, args...)
		if ul.String() != nx.String() || ul.code != 0 {
			t.Errorf("nsenter %q:\n util-linux: %s\n nsx:        %s", args, ul, nx)
		}
	}
}

func TestEnterRefusesCwdOutsideContainer(t *testing.T) {
	enginetest.Require(t, "docker")
	name := enginetest.Name("nsx-exact-cwd")
	enginetest.RunDocker(t, name)
	r := ctrRun(t, exactNSX(t), "enter", "-w/tmp", "docker:"+name, "--", "sleep", "60")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "-W/--wdns") {
		t.Errorf("nsx enter -w/tmp docker:%s: rc=%d stdout=%q stderr=%q; want the refusal", name, r.code, r.stdout, r.stderr)
	}
	r = ctrRun(t, exactNSX(t), "enter", "--wdns=/tmp", "docker:"+name, "--", "pwd")
	if r.code != 0 || r.stdout != "/tmp\n" {
		t.Errorf("nsx enter --wdns=/tmp docker:%s: rc=%d stdout=%q stderr=%q", name, r.code, r.stdout, r.stderr)
	}
}
