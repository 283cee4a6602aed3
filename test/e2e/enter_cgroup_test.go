package e2e

// -c finds the cgroup2 mount a path lookup reaches: a cgroup2 mount that a
// later mount covers is not it, and a mount of a sub-tree (its mountinfo
// root) is honoured.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/testutil"
)

func TestJoinCgroupUsesVisibleCgroup2Mount(t *testing.T) {
	testutil.RequireRoot(t)
	_, nsx := diffBins(t)
	tg := testutil.Start(t, []string{"--net"}, `echo ready > "$READY"; exec sleep 1000`)
	// The target gets a cgroup of its own, a child of the one it shares
	// with this test: in the shared one, a -c that joined nothing would
	// print the same line.
	moveToOwnCgroup(t, tg.PID)
	want := cgroup2Of(t, tg.PID)
	if own := cgroup2Of(t, os.Getpid()); want == own {
		t.Fatalf("the target shares this test's cgroup %s: the test cannot tell a join", own)
	}
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

// cgroup2Of is the cgroup v2 path of process pid (its 0:: line).
func cgroup2Of(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "0::"); ok {
			return v
		}
	}
	testutil.Require(t, false, "a cgroup v2 hierarchy (0:: line)")
	return ""
}

// moveToOwnCgroup moves pid into a new child of its cgroup v2 cgroup; on
// cleanup it moves the process back and removes the child.
func moveToOwnCgroup(t *testing.T, pid int) {
	t.Helper()
	var mnt string
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		// Fields: ID parent major:minor root mountpoint ... - fstype.
		pre, post, ok := strings.Cut(l, " - ")
		if f := strings.Fields(pre); ok && strings.HasPrefix(post, "cgroup2 ") && len(f) >= 5 && f[3] == "/" {
			mnt = f[4]
			break
		}
	}
	testutil.Require(t, mnt != "", "a cgroup2 mount of the whole hierarchy")
	parent := filepath.Join(mnt, cgroup2Of(t, pid))
	child := filepath.Join(parent, fmt.Sprintf("nsx-e2e-cg-%d", pid))
	if err := os.Mkdir(child, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(parent, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
		if err := os.Remove(child); err != nil {
			t.Errorf("removing the test's cgroup: %v", err)
		}
	})
	if err := os.WriteFile(filepath.Join(child, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
		t.Fatal(err)
	}
}
