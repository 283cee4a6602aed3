package e2e

// Differential tests of `nsx ls` against util-linux lsns 2.41.5 (the oracle
// beside the system's 2.38), and tests of `nsx ps` and `nsx inspect` against
// real namespaces made with unshare(1). Run as root. Under CI=true a missing
// prerequisite fails instead of skipping.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

func lsPrereq(t *testing.T, tools ...string) {
	t.Helper()
	testutil.RequireRoot(t)
	for _, tool := range tools {
		testutil.RequireTool(t, tool)
	}
}

var lsBin struct {
	dir string
	nsx string
	err error
}

// buildLs builds nsx once and links it as lsns in a temporary directory.
func buildLs(t *testing.T) (nsx, lsns string) {
	t.Helper()
	if lsBin.nsx == "" && lsBin.err == nil {
		dir, err := os.MkdirTemp("", "nsx-ls-e2e")
		if err != nil {
			t.Fatal(err)
		}
		lsBin.dir = dir
		if err := buildNSXAt(filepath.Join(dir, "nsx")); err != nil {
			lsBin.err = err
		} else if err := os.Symlink(filepath.Join(dir, "nsx"), filepath.Join(dir, "lsns")); err != nil {
			lsBin.err = err
		} else {
			lsBin.nsx = filepath.Join(dir, "nsx")
		}
	}
	if lsBin.err != nil {
		t.Fatal(lsBin.err)
	}
	return lsBin.nsx, filepath.Join(lsBin.dir, "lsns")
}

// fixture is a process tree started in new namespaces; Close kills it.
type fixture struct {
	cmd *exec.Cmd
	pid int // the process inside (the child of unshare --fork)
}

// startFixture runs "unshare ARGS... --fork sleep 600" in its own process
// group and waits for the forked child.
func startFixture(t *testing.T, args ...string) *fixture {
	t.Helper()
	all := append(append([]string{}, args...), "--fork", "sleep", "600")
	cmd := exec.Command("unshare", all...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{cmd: cmd}
	t.Cleanup(f.Close)
	for i := 0; i < 200; i++ {
		if kids := testutil.Children(cmd.Process.Pid); len(kids) > 0 {
			f.pid = kids[0]
			// Wait for the exec of sleep so the command line is stable.
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", f.pid)); strings.HasPrefix(string(b), "sleep\x00") {
				return f
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("unshare %v: no child", args)
	return nil
}

func (f *fixture) Close() {
	if f.cmd.Process != nil {
		syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		f.cmd.Wait()
	}
}

func nsInode(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]")
}

type runResult struct {
	stdout, stderr string
	code           int
}

func run(bin string, args ...string) runResult {
	cmd := exec.Command(bin, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return runResult{o.String(), e.String(), code}
}

// lsnsOracle returns util-linux 2.41.5's lsns (messages say "lsns:").
func lsnsOracle(t *testing.T) string {
	t.Helper()
	// Both programs print UTF-8 as it is and escape the rest the same way
	// only in a UTF-8 locale.
	t.Setenv("LC_ALL", "C.UTF-8")
	return testutil.OracleAs(t, "lsns", "lsns")
}

// sameAsLsns runs both with args and retries a few times, since processes
// on the host come and go between the two runs.
func sameAsLsns(t *testing.T, lsns string, args ...string) {
	t.Helper()
	oracle := lsnsOracle(t)
	var a, b runResult
	deadline := time.Now().Add(20 * time.Second)
	for try := 0; try < 30 && (try < 3 || time.Now().Before(deadline)); try++ {
		// Alternate which runs first: host processes come and go while
		// other work runs on the machine.
		if try%2 == 0 {
			a = run(lsns, args...)
			b = run(oracle, args...)
		} else {
			b = run(oracle, args...)
			a = run(lsns, args...)
		}
		// Messages carry argv[0]; compare with the oracle's name.
		a.stderr = strings.ReplaceAll(a.stderr, lsns+":", "lsns:")
		if a == b {
			return
		}
		// The host's namespaces gain and lose processes between the two
		// runs when other work runs on the machine: their NPROCS alone
		// may differ.
		if x, y := a, b; try >= 3 {
			x.stdout, y.stdout = maskHostNPROCS(x.stdout), maskHostNPROCS(y.stdout)
			if x == y {
				return
			}
		}
		time.Sleep(time.Duration(20+10*try) * time.Millisecond)
	}
	t.Errorf("lsns %s differs:\n--- nsx (rc %d)\n%s%s--- util-linux (rc %d)\n%s%s", strings.Join(args, " "),
		a.code, a.stdout, a.stderr, b.code, b.stdout, b.stderr)
}

// hostNS holds the inodes of the initial namespaces (those of kthreadd).
var hostNS = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{"mnt", "net", "ipc", "uts", "pid", "user", "cgroup", "time"} {
		if l, err := os.Readlink("/proc/2/ns/" + k); err == nil {
			m[strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]")] = true
		}
	}
	return m
}()

// maskHostNPROCS replaces the NPROCS of the host's namespaces with '#', in
// table, raw and JSON output with headers, and squeezes runs of spaces (a
// count that gains a digit widens its column). Alignment is checked by the
// exact comparisons, which most cases pass.
func maskHostNPROCS(out string) string {
	lines := strings.Split(out, "\n")
	col := -1
	hostRow := false // JSON: inside an object whose "ns" is the host's
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if i == 0 {
			for j, h := range f {
				if h == "NPROCS" {
					col = j
				}
			}
		}
		if len(f) == 2 && f[0] == `"ns":` {
			hostRow = hostNS[strings.TrimSuffix(f[1], ",")]
		}
		var tok string
		switch {
		case len(f) == 2 && f[0] == `"nprocs":` && hostRow:
			tok = strings.TrimSuffix(f[1], ",")
		case col > 0 && col < len(f) && i > 0 && hostNS[strings.TrimLeft(f[0], "├└│─ ")]:
			tok = f[col]
		default:
			continue
		}
		if _, err := strconv.Atoi(tok); err == nil {
			k := strings.Index(l, " "+tok)
			lines[i] = l[:k+1] + "#" + l[k+1+len(tok):]
		}
	}
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestLsnsDifferential(t *testing.T) {
	lsPrereq(t, "unshare")
	_, lsns := buildLs(t)
	a := startFixture(t, "-n", "-u", "-i")
	// b has a namespace of every kind: its rows do not move while other
	// work on the machine starts and ends processes in the host's.
	b := startFixture(t, "-U", "--map-root-user", "-p", "-n", "-m", "-u", "-i", "-C", "-T")
	c := startFixture(t, "-m", "-C", "-T")
	pa, pb, pc := strconv.Itoa(a.pid), strconv.Itoa(b.pid), strconv.Itoa(c.pid)
	cases := [][]string{
		{"-p", pa}, {"-p", pb}, {"-p", pc},
		{"-p", pb, "-l"}, {"-p", pb, "-J"}, {"-p", pb, "-J", "-l"}, {"-p", pb, "-r"}, {"-p", pb, "-n"},
		{"-p", pa, "-t", "net"}, {"-p", pa, "-t", "net", "-J"}, {"-p", pb, "-t", "user"}, {"-p", pb, "-t", "pid", "-t", "user"},
		{"-p", pb, "-o", "NS,TYPE,PATH,NPROCS,PID,PPID,UID,USER,PNS,ONS"},
		{"-p", pb, "-o", "+PPID,ons"}, {"-p", pb, "--output-all"}, {"-p", pb, "--output-all", "-J"},
		{"-p", pb, "--output-all", "-r"}, {"-p", pc, "-o", "NS,TYPE,NETNSID,NSFS"},
		{"-p", pb, "-T"}, {"-p", pb, "-T", "-J"}, {"-p", pb, "-Tparent"}, {"-p", pb, "--tree=process"},
		{"-p", pb, "-T=parent"}, {"-p", pb, "--tree==process"}, {"-p", pb, "-T==parent"}, {"-p", pb, "-l", "-T"},
		{"-p", pb, "-u", "-W"},
		{nsInode(t, a.pid, "net")}, {nsInode(t, b.pid, "pid"), "-J"}, {nsInode(t, b.pid, "user"), "-l"},
		{nsInode(t, c.pid, "mnt"), "-r"}, {nsInode(t, c.pid, "time"), "-o", "NS,PID,PPID,COMMAND"},
		{"-t", "time"}, {"-t", "cgroup", "-n"}, {"-t", "user", "-T"}, {"-t", "pid", "-Tparent"},
		{"-p", "999999"}, {"-p", "999999", "-J"}, {"-p", "0", "-t", "time"},
		// Errors.
		{"-p", "abc"}, {"-t", "bogus"}, {"-o", "FOO"}, {"-o", "+NS,BAR"}, {"99"}, {"abc"},
		{"-p", "1", "4026531837"}, {"-J", "-r"}, {"--tree=bad"}, {"-x"}, {"--bogus"}, {"-o"},
		{"-P", "-p", "1"}, {"-p", "1", "-P"}, {"-P", "-p", "abc"},
		{"-h"}, {"-H"}, {"-H", "-J"}, {"-J", "-H"}, {"-H", "-r"}, {"-n", "-H"}, {"-H", "-x"}, {"-x", "-H"},
		{"-r", "-J", "-H"}, {"-H", "--output-all"}, {"-t", "bogus", "-H"},
	}
	for _, args := range cases {
		sameAsLsns(t, lsns, args...)
	}
}

// TestLsnsFilter compares -Q/--filter: rows kept, the filter on columns
// that are not printed, trees cut by it, and every kind of error.
func TestLsnsFilter(t *testing.T) {
	lsPrereq(t, "unshare")
	_, lsns := buildLs(t)
	a := startFixture(t, "-n", "-u", "-i")
	b := startFixture(t, "-U", "--map-root-user", "-p", "-n", "-m", "-u", "-i", "-C", "-T")
	pa, pb := strconv.Itoa(a.pid), strconv.Itoa(b.pid)
	net, uts, user := nsInode(t, a.pid, "net"), nsInode(t, a.pid, "uts"), nsInode(t, b.pid, "user")
	cases := [][]string{
		{"-p", pa, "-Q", `TYPE == "net"`}, {"-p", pa, "-Q", "type eq 'uts' or TYPE == 'ipc'"},
		{"-p", pa, "-Q", "NS == " + net + " || NS == " + uts, "-J"},
		{"-p", pb, "-Q", "!(TYPE == 'user') && NPROCS < 3", "--output-all"},
		{"-p", pb, "-Q", `TYPE =~ "^u" and NPROCS`}, {"-p", pb, "-Q", `TYPE !~ "s$"`, "-r"},
		{"-p", pb, "-Q", "ONS == " + user, "-o", "NS,TYPE"}, {"-p", pb, "-Q", "ONS == " + user, "-T"},
		{"-p", pb, "-Q", "PNS", "-o", "NS,PNS"}, {"-p", pb, "-Q", "NS > " + user + ".5", "-l"},
		{"-p", pb, "-Q", `PATH =~ "/ns/(user|pid)$"`, "-o", "+PATH"}, {"-p", pb, "-Q", `COMMAND == "sleep 600"`},
		{"-p", pb, "-Q", `NPROCS == "1"`}, {"-p", pb, "-Q", "true", "-n"}, {"-p", pb, "-Q", "false"},
		{"-p", pb, "-Q", ""}, {"-p", pb, "--filter", "NS == " + user}, {"-p", pb, "-Q", "TYPE == 1"},
		{"-p", pb, "-Q", "false", "-J"},
		{"-p", "999999", "-Q", "TYPE == 1"},
		{"-Q", "NS == " + net}, {"-Q", "NS == " + net + " && TYPE == 'net'", "-t", "net", "-J"},
		// Errors, in lsns's order of checks.
		{"-Q"}, {"-Q", "NPROCS >"}, {"-Q", "> 1"}, {"-Q", "NPROCS 1"}, {"-Q", "(NS 1"}, {"-Q", "NS == == 1"},
		{"-Q", `TYPE == "x")`}, {"-Q", "NS ("}, {"-Q", "NS && ||"}, {"-Q", `TYPE =~ "("`}, {"-Q", "a =~ b"},
		{"-Q", "@"}, {"-Q", "NS == '"}, {"-Q", "FOO"}, {"-Q", "FOO == BAR"}, {"-Q", "NS == foo"},
		{"-Q", "FOO", "-x"}, {"-Q", "FOO", "-p", "abc"}, {"-Q", "FOO", "12345"}, {"-Q", "NS ==", "-H"},
		{"-Q", "FOO", "-o", "BAR"}, {"-Q", "FOO", "-p", "999999"}, {"-Q", "CONTAINER"},
		{"-Q", "NS", net},
	}
	// The filter must select: one row, that namespace.
	if r := run(lsns, "-p", pb, "-Q", `TYPE == "net"`, "-n", "-o", "NS"); strings.TrimSpace(r.stdout) != nsInode(t, b.pid, "net") {
		t.Errorf("-Q TYPE == net: %q %q", r.stdout, r.stderr)
	}
	for _, args := range cases {
		sameAsLsns(t, lsns, args...)
	}
}

// holdNS opens pid's namespace of kind and returns the fd's path in this
// process; the fd stays open until the test ends.
func holdNS(t *testing.T, pid int, kind string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd())
}

// holdNetBySocket makes a socket in a new network namespace from a thread
// that then goes back; only the socket keeps that namespace alive. It
// returns the namespace's inode.
func holdNetBySocket(t *testing.T) string {
	t.Helper()
	type result struct {
		ino string
		err error
	}
	res := make(chan result)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		// The thread's namespaces change: it stays locked and dies with
		// the goroutine.
		runtime.LockOSThread()
		fail := func(err error) { res <- result{err: err}; <-done }
		home, err := syscall.Open("/proc/thread-self/ns/net", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			fail(err)
			return
		}
		defer syscall.Close(home)
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			fail(err)
			return
		}
		l, _ := os.Readlink("/proc/thread-self/ns/net")
		s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			fail(err)
			return
		}
		defer syscall.Close(s)
		if err := unix.Setns(home, unix.CLONE_NEWNET); err != nil {
			fail(err)
			return
		}
		res <- result{ino: strings.TrimSuffix(l[strings.IndexByte(l, '[')+1:], "]")}
		<-done
	}()
	r := <-res
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.ino
}

// killFixture ends a fixture and waits until its process is gone.
func killFixture(t *testing.T, f *fixture) {
	t.Helper()
	f.Close()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", f.pid)); err != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fixture %d still there", f.pid)
}

// TestLsnsHeldNamespaces compares namespaces that no process is in: kept by
// an open fd (with the user namespace that owns it), by a socket, and by a
// bind mount.
func TestLsnsHeldNamespaces(t *testing.T) {
	lsPrereq(t, "unshare", "umount")
	_, lsns := buildLs(t)
	f := startFixture(t, "-U", "--map-root-user", "-u", "-i")
	uts, ipc, user := nsInode(t, f.pid, "uts"), nsInode(t, f.pid, "ipc"), nsInode(t, f.pid, "user")
	holdNS(t, f.pid, "uts")
	holdNS(t, f.pid, "ipc")
	killFixture(t, f)
	net := holdNetBySocket(t)
	_, mounted := bindNS(t, "uts")
	mine := fmt.Sprintf("NS == %s || NS == %s || NS == %s || NS == %s || NS == %s", uts, ipc, user, net, mounted)
	// The namespaces must be listed at all (a test that compares two
	// empty outputs proves nothing).
	if r := run(lsns, "-n", "-o", "NS", "-Q", mine); strings.Count(r.stdout, "\n") != 5 {
		t.Fatalf("want 5 process-less namespaces, got\n%s%s", r.stdout, r.stderr)
	}
	cases := [][]string{
		{"-Q", mine}, {"-Q", mine, "--output-all"}, {"-Q", mine, "-J", "--output-all"},
		{"-Q", mine, "-r"}, {"-Q", mine, "-T"}, {"-Q", mine, "-Tparent"}, {"-Q", mine, "-l"},
		{"-P", "-Q", mine}, {"-P", "-Q", mine, "-o", "NS,TYPE,NPROCS,PID,UID,USER,NETNSID,NSFS,ONS,PNS"},
		{"-t", "uts", "-Q", mine}, {"-t", "user", "-Q", mine}, {"-t", "net", "-Q", mine},
		{"-t", "uts", "-t", "user", "-Q", mine, "-T"}, {"-Q", mine + " || NS == 4026531837", "-T"},
		{"-p", strconv.Itoa(os.Getpid()), "-Q", mine},
		// A namespace argument without processes lists nothing.
		{uts}, {"-t", "net", uts}, {net}, {mounted, "-J"},
	}
	for _, args := range cases {
		sameAsLsns(t, lsns, args...)
	}
}

// TestLsNsxHeld checks what nsx ls adds for a namespace without processes:
// PATH is the fd that holds it, which opens that very namespace, and -Q
// works on a namespace argument's processes.
func TestLsNsxHeld(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, _ := buildLs(t)
	f := startFixture(t, "-u")
	uts := nsInode(t, f.pid, "uts")
	path := holdNS(t, f.pid, "uts")
	killFixture(t, f)
	r := run(nsx, "ls", "-t", "uts", "-Q", "NS == "+uts, "-o", "NS,NPROCS,PATH", "-r", "-n")
	if want := uts + " 0 " + path + "\n"; r.stdout != want || r.code != 0 {
		t.Fatalf("nsx ls: %d %q %q, want %q", r.code, r.stdout, r.stderr, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil || strconv.FormatUint(st.Ino, 10) != uts {
		t.Fatalf("PATH %s is not namespace %s: %v %d", path, uts, err, st.Ino)
	}
	g := startFixture(t, "-n")
	r = run(nsx, "ls", nsInode(t, g.pid, "net"), "-Q", `COMMAND =~ "^sleep"`, "-o", "PID,COMMAND", "-r", "-n")
	if want := strconv.Itoa(g.pid) + ` sleep\x20600` + "\n"; r.stdout != want {
		t.Fatalf("nsx ls NS -Q: %d %q %q, want %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestLsHeldAtAnyFdNumber checks that namespaces are found whatever fd
// numbers hold them, with holes between: the holder has fds 0-2, 5, 300 and
// 301. 301 is an nsfs file whose bind mount is gone, so its link reads "/"
// and only opening it tells what it is.
func TestLsHeldAtAnyFdNumber(t *testing.T) {
	lsPrereq(t, "unshare", "bash", "umount")
	nsx, lsns := buildLs(t)
	f := startFixture(t, "-u", "-i")
	uts, ipc := nsInode(t, f.pid, "uts"), nsInode(t, f.pid, "ipc")
	file, net := bindNS(t, "net")
	script := fmt.Sprintf("exec 5</proc/%d/ns/uts 300</proc/%d/ns/ipc 301<%s; exec sleep 600", f.pid, f.pid, file)
	holder := exec.Command("bash", "-c", script)
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	for i := 0; ; i++ {
		if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", holder.Process.Pid)); strings.HasSuffix(l, "/sleep") {
			break
		}
		if i == 500 {
			t.Fatal("the holder did not start sleep")
		}
		time.Sleep(10 * time.Millisecond)
	}
	killFixture(t, f)
	if out, err := exec.Command("umount", "-l", file).CombinedOutput(); err != nil {
		t.Fatalf("umount: %v %s", err, out)
	}
	hp := strconv.Itoa(holder.Process.Pid)
	rows := []struct{ ns, fd string }{{uts, "5"}, {ipc, "300"}, {net, "301"}}
	sort.Slice(rows, func(i, j int) bool { return mustUint(t, rows[i].ns) < mustUint(t, rows[j].ns) }) // inode order
	want := ""
	for _, r := range rows {
		want += r.ns + " 0 /proc/" + hp + "/fd/" + r.fd + "\n"
	}
	mine := "NS == " + uts + " || NS == " + ipc + " || NS == " + net
	r := run(nsx, "ls", "-Q", mine, "-o", "NS,NPROCS,PATH", "-r", "-n")
	if r.stdout != want || r.code != 0 {
		t.Fatalf("nsx ls: %d %q %q, want %q", r.code, r.stdout, r.stderr, want)
	}
	sameAsLsns(t, lsns, "-Q", mine)
}

// bindNS makes a new namespace of kind with nothing in it but a bind mount
// on a file (unshare --KIND=FILE), unmounted at the end, and returns the
// file and the namespace's inode.
func bindNS(t *testing.T, kind string) (file, inode string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "nsx-held-"+kind)
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--"+kind+"="+file, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --%s=FILE: %v %s", kind, err, out)
	}
	t.Cleanup(func() { exec.Command("umount", file).Run() })
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	return file, strconv.FormatUint(st.Ino, 10)
}

func mustUint(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLsnsEscapes compares how a command line with control characters and
// bytes that are not UTF-8 is shown: escaped in the table, raw and tree
// output, JSON-escaped in JSON.
func TestLsnsEscapes(t *testing.T) {
	lsPrereq(t, "unshare", "bash")
	_, lsns := buildLs(t)
	name := "nsx-lsns\x1b[31mred\nnew\ttab\x7f\xc3\xa9\xff\xc2\x85 end"
	cmd := exec.Command("unshare", "-u", "-i", "--fork", "bash", "-c", `exec -a "$0" sleep 600`, name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f := &fixture{cmd: cmd}
	t.Cleanup(f.Close)
	for i := 0; i < 200 && f.pid == 0; i++ {
		if kids := testutil.Children(cmd.Process.Pid); len(kids) > 0 {
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", kids[0])); strings.HasPrefix(string(b), name) {
				f.pid = kids[0]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if f.pid == 0 {
		t.Fatal("no renamed child")
	}
	p, uts := strconv.Itoa(f.pid), nsInode(t, f.pid, "uts")
	for _, args := range [][]string{
		{"-p", p, "-t", "uts"}, {"-p", p, "-t", "uts", "-r"}, {"-p", p, "-t", "uts", "-J"},
		{"-p", p, "-t", "uts", "-T"}, {"-p", p, "-t", "uts", "-l", "-o", "NS,COMMAND"}, {uts}, {uts, "-r"},
	} {
		sameAsLsns(t, lsns, args...)
	}
	// The escape character never reaches the terminal, in ls, ps or
	// inspect.
	nsx := filepath.Join(filepath.Dir(lsns), "nsx")
	for _, args := range [][]string{{lsns, "-p", p, "-t", "uts"}, {nsx, "ls", "-p", p, "-t", "uts", "-T"}, {nsx, "ps", p}, {nsx, "inspect", p}} {
		r := run(args[0], args[1:]...)
		if r.code != 0 || strings.ContainsAny(r.stdout, "\x1b\x7f") || !strings.Contains(r.stdout, `nsx-lsns\x1b[31mred\x0anew\x09tab\x7f`) {
			t.Errorf("%v: not escaped (rc %d): %q %q", args[1:], r.code, r.stdout, r.stderr)
		}
	}
}

// TestLsnsDefaultRows compares the default listing's rows for the fixtures'
// namespaces, with both programs' own rows left out.
func TestLsnsDefaultRows(t *testing.T) {
	lsPrereq(t, "unshare")
	_, lsns := buildLs(t)
	oracle := lsnsOracle(t)
	a := startFixture(t, "-n", "-u")
	b := startFixture(t, "-U", "--map-root-user", "-p", "-n")
	ids := map[string]bool{}
	for _, f := range []*fixture{a, b} {
		for _, k := range []string{"net", "uts", "user", "pid"} {
			ids[nsInode(t, f.pid, k)] = true
		}
	}
	pick := func(out string) []string {
		var rows []string
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) > 0 && ids[f[0]] {
				rows = append(rows, strings.Join(f, " "))
			}
		}
		return rows
	}
	var x, y []string
	for try := 0; try < 8; try++ {
		x = pick(run(lsns, "-l").stdout)
		y = pick(run(oracle, "-l").stdout)
		if strings.Join(x, "\n") == strings.Join(y, "\n") && len(x) == len(ids) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("rows differ:\nnsx:\n%s\nlsns:\n%s", strings.Join(x, "\n"), strings.Join(y, "\n"))
}

func TestLsNsxColumns(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, lsns := buildLs(t)
	f := startFixture(t, "-n")
	r := run(nsx, "ls", "-p", strconv.Itoa(f.pid), "-o", "NS,TYPE,CONTAINER", "-J")
	if r.code != 0 {
		t.Fatalf("nsx ls: %d %s", r.code, r.stderr)
	}
	var doc struct {
		Namespaces []map[string]any `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Namespaces) != 8 {
		t.Fatalf("want 8 namespaces, got %s", r.stdout)
	}
	if _, ok := doc.Namespaces[0]["container"]; !ok {
		t.Fatalf("no container key: %s", r.stdout)
	}
	// lsns never knows CONTAINER.
	if r := run(lsns, "-o", "CONTAINER"); r.code != 1 || r.stderr != "lsns: unknown column: CONTAINER\n" {
		t.Fatalf("lsns -o CONTAINER: %d %q", r.code, r.stderr)
	}
	// A container filter that matches nothing is an error (issue 9).
	if r := run(nsx, "ls", "--container", "docker:nonexistent-nsx-test"); r.code != 1 || r.stdout != "" {
		t.Fatalf("--container: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// -l with -T is refused (lsns 2.38 silently takes both).
	if r := run(nsx, "ls", "-l", "-T"); r.code != 1 || !strings.Contains(r.stderr, "mutually exclusive") {
		t.Fatalf("-l -T: %d %q", r.code, r.stderr)
	}
}

// TestLsPersistent lists a namespace kept only by a bind mount.
func TestLsPersistent(t *testing.T) {
	lsPrereq(t, "unshare", "umount")
	nsx, _ := buildLs(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "uts")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--uts="+file, "true").CombinedOutput(); err != nil {
		t.Fatalf("unshare --uts=FILE: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", file).Run() })
	id := nsInode(t, os.Getpid(), "uts") // not it; read the mount instead
	var st syscall.Stat_t
	if err := syscall.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	if strconv.FormatUint(st.Ino, 10) == id {
		t.Fatal("bind mount did not hold a new namespace")
	}
	r := run(nsx, "ls", "-P", "-t", "uts", "-o", "NS,NPROCS,PID,NSFS", "-r", "-n")
	want := fmt.Sprintf("%d 0  %s\n", st.Ino, strings.ReplaceAll(file, " ", `\x20`))
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("nsx ls -P: want line %q in\n%s%s", want, r.stdout, r.stderr)
	}
}

func TestPsUserNamespace(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, _ := buildLs(t)
	f := startFixture(t, "-U", "--map-user=1000", "--map-group=1000", "-p", "-n")
	r := run(nsx, "ps", "-J", strconv.Itoa(f.pid))
	if r.code != 0 {
		t.Fatalf("nsx ps: %d %s", r.code, r.stderr)
	}
	var res struct {
		PIDNS     uint64 `json:"pid_ns"`
		Processes []struct {
			PID      int    `json:"pid"`
			NSpid    int    `json:"nspid"`
			UID      int    `json:"uid"`
			InnerUID int    `json:"inner_uid"`
			State    string `json:"state"`
			Command  string `json:"command"`
			RSSKiB   uint64 `json:"rss_kib"`
		} `json:"processes"`
		Cgroup *struct {
			Path        string `json:"path"`
			MemoryBytes int64  `json:"memory_bytes"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got, want := strconv.FormatUint(res.PIDNS, 10), nsInode(t, f.pid, "pid"); got != want {
		t.Fatalf("pid_ns %s, want %s", got, want)
	}
	if len(res.Processes) != 1 {
		t.Fatalf("want the one sleep, got %+v", res.Processes)
	}
	p := res.Processes[0]
	// As the kernel reports them: NSpid 1 (the namespace's init), host UID
	// 0 (unshare ran as root), mapped to 1000 inside.
	if p.PID != f.pid || p.NSpid != 1 || p.UID != 0 || p.InnerUID != 1000 || p.Command != "sleep 600" || p.RSSKiB == 0 {
		t.Fatalf("process %+v", p)
	}
	if p.State != "S" {
		t.Fatalf("state %q", p.State)
	}
	if res.Cgroup == nil || res.Cgroup.Path == "" {
		t.Fatalf("no cgroup: %s", r.stdout)
	}
	// The table view.
	r = run(nsx, "ps", strconv.Itoa(f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, "sleep 600") || !strings.Contains(r.stdout, "1000") {
		t.Fatalf("nsx ps table: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, ", 1 process\n") {
		t.Errorf("one process counted as: %s", r.stdout)
	}
	// Bad input.
	for _, bad := range []string{"999999999", "0", "/nonexistent/ns"} {
		if r := run(nsx, "ps", bad); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nsx ps %s: %d %q", bad, r.code, r.stderr)
		}
	}
}

func TestInspectUserNamespace(t *testing.T) {
	lsPrereq(t, "unshare")
	nsx, _ := buildLs(t)
	f := startFixture(t, "-U", "--map-root-user", "-p", "-n", "-u")
	r := run(nsx, "inspect", "-J", strconv.Itoa(f.pid))
	if r.code != 0 {
		t.Fatalf("nsx inspect: %d %s", r.code, r.stderr)
	}
	var res struct {
		PID        int `json:"pid"`
		Namespaces []struct {
			Type     string `json:"type"`
			ID       uint64 `json:"id"`
			Host     bool   `json:"host"`
			Owner    uint64 `json:"owner_userns"`
			OwnerUID int64  `json:"owner_uid"`
			Parent   uint64 `json:"parent"`
		} `json:"namespaces"`
		UIDMap     string `json:"uid_map"`
		GIDMap     string `json:"gid_map"`
		Setgroups  string `json:"setgroups"`
		Hostname   string `json:"hostname"`
		Interfaces []struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addresses"`
		} `json:"interfaces"`
		Root    string `json:"root"`
		Seccomp string `json:"seccomp"`
		Caps    *struct {
			Effective string `json:"effective"`
		} `json:"capabilities"`
		Cgroup *struct {
			Path string `json:"path"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	userns := nsInode(t, f.pid, "user")
	hostUser := nsInode(t, os.Getpid(), "user")
	seen := map[string]bool{}
	for _, n := range res.Namespaces {
		seen[n.Type] = true
		if got := strconv.FormatUint(n.ID, 10); got != nsInode(t, f.pid, n.Type) {
			t.Errorf("%s: id %s, kernel says %s", n.Type, got, nsInode(t, f.pid, n.Type))
		}
		newNS := n.Type == "user" || n.Type == "pid" || n.Type == "net" || n.Type == "uts"
		if n.Host == newNS {
			t.Errorf("%s: host=%v", n.Type, n.Host)
		}
		switch n.Type {
		case "user":
			if strconv.FormatUint(n.Parent, 10) != hostUser || n.OwnerUID != 0 {
				t.Errorf("user: parent %d owner uid %d", n.Parent, n.OwnerUID)
			}
		case "pid", "net", "uts":
			if strconv.FormatUint(n.Owner, 10) != userns {
				t.Errorf("%s: owner %d, want %s", n.Type, n.Owner, userns)
			}
		}
		if n.Type == "pid" && strconv.FormatUint(n.Parent, 10) != nsInode(t, os.Getpid(), "pid") {
			t.Errorf("pid parent %d", n.Parent)
		}
	}
	if len(seen) < 7 {
		t.Errorf("namespaces: %v", seen)
	}
	readTrim := func(name string) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", f.pid, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if res.UIDMap != readTrim("uid_map") || res.GIDMap != readTrim("gid_map") || res.Setgroups != "deny" {
		t.Errorf("maps %q %q %q", res.UIDMap, res.GIDMap, res.Setgroups)
	}
	hn, _ := os.Hostname()
	if res.Hostname != hn { // a new UTS namespace starts as a copy
		t.Errorf("hostname %q, want %q", res.Hostname, hn)
	}
	if len(res.Interfaces) != 1 || res.Interfaces[0].Name != "lo" {
		t.Errorf("interfaces in a new netns: %+v", res.Interfaces)
	}
	if res.Root != "/" || res.Seccomp != "disabled" || res.Caps == nil || res.Cgroup == nil {
		t.Errorf("root %q seccomp %q caps %v cgroup %v", res.Root, res.Seccomp, res.Caps, res.Cgroup)
	}
	// Human view.
	r = run(nsx, "inspect", strconv.Itoa(f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, "Hostname:") || !strings.Contains(r.stdout, "uid_map:       0 0 1") {
		t.Fatalf("human view: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A namespace file target.
	r = run(nsx, "inspect", "-J", fmt.Sprintf("/proc/%d/ns/net", f.pid))
	if r.code != 0 || !strings.Contains(r.stdout, `"name": "lo"`) {
		t.Fatalf("inspect netns file: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// glibc's wording, never Go's lower-case errno text.
	if r := run(nsx, "inspect", "999999999"); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, ": No such process\n") {
		t.Errorf("inspect bad pid: %d %q", r.code, r.stderr)
	}
}

// TestLsScanStructure pins the shape of nsx ls under strace: every
// process's namespace links are read through one directory fd, and no
// os.File wakes the network poller (which made each /proc read cost four
// fcntl and a failed epoll_ctl more; with 2,000 processes that was ~2,100
// calls), neither in the scan nor for the rows' users and containers.
// Counts, not timings: they do not depend on the load.
func TestLsScanStructure(t *testing.T) {
	lsPrereq(t, "unshare")
	enginetest.Require(t, "docker")
	nsx, _ := buildLs(t)
	for i := 0; i < 3; i++ {
		startFixture(t, "-u", "-i")
	}
	// A container's rows name it from the runtime's files on disk.
	name := enginetest.Name("nsx-e2e-ls-structure")
	enginetest.RunDocker(t, name)
	if r := run(nsx, "ls", "-n", "-o", "CONTAINER"); !strings.Contains(r.stdout, "docker:"+name) {
		t.Fatalf("nsx ls does not name container %s:\n%s%s", name, r.stdout, r.stderr)
	}
	_, procs := straceEnter(t, nsx, "ls", "-n")
	nsDir := regexp.MustCompile(`^AT_FDCWD, "/proc/[0-9]+/ns"`)
	var dirs, links, fcntl int
	for _, p := range procs {
		for _, c := range p.calls {
			switch c.name {
			case "openat":
				if nsDir.MatchString(c.args) {
					dirs++
				}
			case "readlinkat":
				if nsLinkNames[firstQuoted(c.args)] {
					links++ // a namespace link under its directory fd
				}
			case "fcntl":
				fcntl++
			case "epoll_create1", "eventfd2", "epoll_ctl":
				t.Errorf("%s(%s): the network poller started (an os.File?)", c.name, c.args)
			}
		}
	}
	if dirs < 50 {
		t.Fatalf("the scan opened %d /proc/PID/ns directories, want one per process (at least 50)", dirs)
	}
	if links > 8*dirs {
		t.Errorf("%d namespace link reads for %d processes, want at most 8 each", links, dirs)
	}
	// The runtime's start-up asks about fds 0-2 twice each.
	if fcntl > 6 {
		t.Errorf("%d fcntl calls for %d processes, want the runtime's 6: os.File reads are back", fcntl, dirs)
	}
	t.Logf("%d processes, %d namespace links, %d fcntl calls", dirs, links, fcntl)
}

// firstQuoted returns the first double-quoted string in strace's text of
// a call's arguments.
func firstQuoted(args string) string {
	i := strings.IndexByte(args, '"')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(args[i+1:], '"')
	if j < 0 {
		return ""
	}
	return args[i+1 : i+1+j]
}

// nsLinkNames are the names of the links in /proc/PID/ns that nsx ls reads.
var nsLinkNames = map[string]bool{
	"cgroup": true, "ipc": true, "mnt": true, "net": true,
	"pid": true, "time": true, "user": true, "uts": true,
}
