package e2e

// Bad input, against util-linux 2.41.5: the same command line through the
// oracle and through nsx as "nsenter" must give the same stdout, stderr and
// status, except where docs/compat.md documents a fix.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

// sameAsOracle runs args through the 2.41.5 oracle and nsx and requires the
// same result; it returns nsx's.
func sameAsOracle(t *testing.T, args ...string) diffResult {
	t.Helper()
	oracle := testutil.OracleAs(t, "nsenter", "nsenter")
	_, nsx := diffBins(t)
	ul, nx := diffRun(t, oracle, diffOpts{}, args...), diffRun(t, nsx, diffOpts{}, args...)
	if ul.String() != nx.String() {
		t.Errorf("nsenter %q:\n util-linux 2.41: %s\n nsx:             %s", args, ul, nx)
	}
	return nx
}

func TestNsenterBadInput241(t *testing.T) {
	tg := testutil.Start(t, []string{"--user", "--map-root-user", "--net", "--mount"}, `echo ready > "$READY"; exec sleep 1000`)
	T := fmt.Sprint(tg.PID)
	net := "--net=/proc/" + T + "/ns/net"
	for _, args := range [][]string{
		// An empty program name is a program that cannot be found, not
		// a login shell reading stdin.
		{"-t", T, "-n", "--", ""},
		{"-t", T, "-n", "-S", "0", "--", ""},
		// -S/-G: negative or beyond 64 bits is out of range; larger
		// than 32 bits is truncated, as 2.41 does.
		{"-S", "-5", net, "true"},
		{"-S", "-4294967295", net, "true"},
		{"-S", "99999999999999999999", net, "true"},
		{"-S", " -1", net, "true"},
		{"-G", "-5", net, "true"},
		{"-S", "abc", net, "true"},
		{"-S", "12abc", net, "true"},
		{"-S", "-0", net, "true"},
		{"-S", "4294967296", net, "id", "-u"},
		{"-t", "-5", "-n", "true"},
		{"-t", " -1", "-n", "true"},
		{"-N", "2147483648", "-t", T, "true"},
		{"-N", "abc", "-t", T, "true"},
		{"-N", " 5", "true"},
		{"-N", "+5", "true"},
		// follow wins over a number, in either order.
		{"-t", T, "-U", "-S", "5", "-S", "follow", "id", "-u"},
		{"-t", T, "-U", "-S", "follow", "-S", "5", "id", "-u"},
		// The early setgroups succeeded: the refused one inside is fine.
		{"-t", T, "-U", "--preserve-credentials", "-S", "0", "-G", "0", "id", "-G"},
		{"-t", T, "-U", "--preserve-credentials", "-G", "0", "id", "-G"},
		// Empty -W=.
		{"-t", T, "-m", "-W=", "pwd"},
		{"-t", T, "-m", "--wdns=", "pwd"},
		// 2.41 names the target file it cannot open before it looks for
		// namespaces.
		{"-e", "true"},
		{"-S", "follow", "true"},
		{"-G", "follow", "true"},
		{"-r", "true"},
		{"-w", "true"},
		{"-e", "-r", "true"},
		{"-w", "-e", "true"},
		{"-e", net, "true"},
		{"-S", "follow", net, "true"},
		// Not namespace files.
		{"--net=/etc/passwd", "true"},
		{"--net=/dev/null", "true"},
	} {
		sameAsOracle(t, args...)
	}
}

// TestNsenterFIFONamespaceFile: a FIFO given as a namespace file is opened
// without waiting for a writer and refused like any other file that is
// not a namespace. util-linux 2.41 hangs in open(2) (docs/compat.md).
func TestNsenterFIFONamespaceFile(t *testing.T) {
	_, nsx := diffBins(t)
	nsxCmd := filepath.Join(filepath.Dir(nsx), "nsx")
	fifo := filepath.Join(t.TempDir(), "nsx-exact-fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := diffRun(t, nsx, diffOpts{}, "--net="+fifo, "true")
	diffWant(t, "nsenter --net=FIFO", r, 1, "", "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n")
	for _, args := range [][]string{{"enter", fifo, "true"}, {"ps", fifo}, {"inspect", fifo}} {
		got := ctrRun(t, nsxCmd, args...)
		want := fmt.Sprintf("nsx %s: %s: not a namespace file\n", args[0], fifo)
		if got.code != 1 || got.stdout != "" || got.stderr != want {
			t.Errorf("nsx %q: rc=%d stdout=%q stderr=%q; want %q", args, got.code, got.stdout, got.stderr, want)
		}
	}
}

// TestNsenterThreadTarget: a thread ID as -t enters that thread's
// namespaces, which may differ from its process's, as util-linux does. The
// thread here is one of this test process, in a network namespace of its
// own.
func TestNsenterThreadTarget(t *testing.T) {
	testutil.RequireRoot(t)
	type thread struct {
		tid int
		net string
		err error
	}
	started, stop := make(chan thread), make(chan struct{})
	go func() {
		// Never unlocked: the thread ends with this goroutine.
		runtime.LockOSThread()
		var th thread
		if th.err = unix.Unshare(unix.CLONE_NEWNET); th.err == nil {
			th.tid = unix.Gettid()
			th.net, th.err = os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", th.tid))
		}
		started <- th
		<-stop
	}()
	th := <-started
	defer close(stop)
	if th.err != nil {
		t.Fatal(th.err)
	}
	// Any other thread of this process is still in the process's network
	// namespace (/proc/self/ns is the main thread's, which may be this one).
	own := ""
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, e := range tasks {
		if e.Name() != strconv.Itoa(th.tid) {
			own, _ = os.Readlink("/proc/self/task/" + e.Name() + "/ns/net")
			break
		}
	}
	if own == "" || own == th.net {
		t.Fatalf("the thread's network namespace %s is its process's (%q)", th.net, own)
	}
	for _, args := range [][]string{
		{"-t", fmt.Sprint(th.tid), "-n", "readlink", "/proc/self/ns/net"},
		{"-t", fmt.Sprint(th.tid), "-n", "-S", "0", "readlink", "/proc/self/ns/net"},
	} {
		r := sameAsOracle(t, args...)
		if r.code != 0 || strings.TrimSpace(r.stdout) != th.net {
			t.Errorf("nsenter %q: %s; want %s", args, r, th.net)
		}
	}
}

// TestExplainUnreadableNamespace: --explain run by an unprivileged user
// against root's process cannot read its namespace; it says so instead of
// printing inode 0.
func TestExplainUnreadableNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	setpriv := testutil.RequireTool(t, "setpriv")
	nsx := exactNSXForAll(t)
	tg := testutil.Start(t, []string{"--ipc"}, `echo ready > "$READY"; exec sleep 1000`)
	r := ctrRun(t, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", nsx, "enter", "--explain", "-t", fmt.Sprint(tg.PID), "-i", "--", "true")
	if r.code != 0 || strings.Contains(r.stdout, "ipc:[0]") || !strings.Contains(r.stdout, "ipc:[?] (cannot read it: Permission denied)") {
		t.Errorf("--explain as nobody: rc=%d stdout=%q stderr=%q", r.code, r.stdout, r.stderr)
	}
}

// TestPsCountsOneProcess: "1 process", not "1 processes".
func TestPsCountsOneProcess(t *testing.T) {
	nsx := exactNSX(t)
	tg := testutil.Start(t, []string{"--pid", "--mount-proc"}, `echo ready > "$READY"; exec sleep 1000`)
	r := ctrRun(t, nsx, "ps", fmt.Sprint(tg.PID))
	if r.code != 0 || !strings.Contains(r.stdout, ", 1 process\n") {
		t.Errorf("nsx ps: rc=%d stdout=%q stderr=%q; want \", 1 process\"", r.code, r.stdout, r.stderr)
	}
}

// TestMessagesUseGlibcErrnoText: Go's lower-case errno text never reaches
// the user.
func TestMessagesUseGlibcErrnoText(t *testing.T) {
	nsx := exactNSX(t)
	for _, args := range [][]string{{"inspect", "999999"}, {"ps", "999999"}} {
		r := ctrRun(t, nsx, args...)
		if want := "nsx " + args[0] + ": 999999: pidfd_open 999999: No such process\n"; r.code != 1 || r.stderr != want {
			t.Errorf("nsx %q: rc=%d stderr=%q; want %q", args, r.code, r.stderr, want)
		}
	}
}

// exactNSX is this test binary's own nsx build (the one diffBins made), as
// "nsx": the shared /tmp/nsx-engines build may be another checkout's.
func exactNSX(t *testing.T) string {
	t.Helper()
	_, nsx := diffBins(t)
	return filepath.Join(filepath.Dir(nsx), "nsx")
}

// exactNSXForAll is a copy of exactNSX that any user may run.
func exactNSXForAll(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nsx-exact-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	b, err := os.ReadFile(exactNSX(t))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "nsx")
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestJoinCgroupWithoutTarget: -c without a target names the file it
// needs, as 2.41 does on a cgroup v2 host. (On a hybrid host 2.41 refuses
// -c first, which nsx does not: docs/compat.md.)
func TestJoinCgroupWithoutTarget(t *testing.T) {
	_, nsx := diffBins(t)
	for _, args := range [][]string{{"-c", "true"}, {"--net=/proc/self/ns/net", "-c", "true"}} {
		r := diffRun(t, nsx, diffOpts{}, args...)
		diffWant(t, fmt.Sprintf("nsenter %q", args), r, 1, "", "nsenter: neither filename nor target pid supplied for cgroup\n")
	}
	// The target's files come first, as in 2.41 everywhere.
	sameAsOracle(t, "-c", "-e", "true")
	sameAsOracle(t, "-c", "-r", "true")
}
