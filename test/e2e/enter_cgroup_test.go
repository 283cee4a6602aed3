package e2e

// -c finds the cgroup2 mount a path lookup reaches: a cgroup2 mount that a
// later mount covers is not it, and a mount of a sub-tree (its mountinfo
// root) is honoured.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

func TestJoinCgroupUsesVisibleCgroup2Mount(t *testing.T) {
	testutil.RequireRoot(t)
	_, nsx := diffBins(t)
	tg := testutil.Start(t, []string{"--net"}, `echo ready > "$READY"; exec sleep 1000`)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", tg.PID))
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "0::"); ok {
			want = v
		}
	}
	testutil.Require(t, want != "", "a cgroup v2 hierarchy (0:: line)")
	// In a private mount namespace: every cgroup2 mount nsx can see is
	// covered by a tmpfs, then cgroup2 is mounted again elsewhere; only
	// that last one can be used. nsx runs inside that namespace.
	dir := t.TempDir()
	script := fmt.Sprintf(`set -e
		mount --make-rprivate /
		for m in $(awk '$9 == "cgroup2" {print $5}' /proc/self/mountinfo); do mount -t tmpfs nsx-exact-cover "$m"; done
		mount -t cgroup2 nsx-exact-cg %s
		exec %s -t %d -n -c sh -c 'grep "^0::" /proc/self/cgroup'`, dir, nsx, tg.PID)
	out, err := exec.Command("unshare", "-m", "sh", "-c", script).CombinedOutput()
	if err != nil || string(out) != "0::"+want+"\n" {
		t.Errorf("nsenter -c with the first cgroup2 mount covered: %v %q; want 0::%s", err, out, want)
	}
}
