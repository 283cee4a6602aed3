package e2e

// Differential tests: the same nsenter command lines run through util-linux
// nsenter 2.41.5 (the oracle, installed beside the system's 2.38 by
// scripts/oracle.sh) and through nsx invoked as "nsenter", comparing stdout,
// stderr and exit status. nsx targets 2.41; where it deliberately differs
// (docs/compat.md) the test asserts both sides. Where 2.38 differed from
// 2.41 (reference §1, §2, (m)/N marks) the cases now simply agree.
// Fixtures are made with util-linux unshare, chroot and a static busybox.
// Run as root; under CI=true a missing prerequisite fails instead of
// skipping.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
)

const diffOracle = testutil.OracleDir + "/nsenter"

const diffPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

var diffBuild struct {
	once   sync.Once
	dir    string
	nsx    string // <dir>/nsx/nsenter -> nsx
	oracle string // <dir>/ul/nsenter -> /usr/bin/nsenter
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if diffBuild.dir != "" {
		os.RemoveAll(diffBuild.dir)
	}
	if nsxBuild.dir != "" {
		os.RemoveAll(nsxBuild.dir)
	}
	os.Exit(code)
}

// diffPrereq fails (CI=true) or skips when something the tests need is
// missing.
func diffPrereq(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.Oracle(t, "nsenter") // fails in CI, skips elsewhere
	for _, tool := range []string{"unshare", "chroot", "sh", "sleep", "perl"} {
		testutil.RequireTool(t, tool)
	}
	out, err := exec.Command("/bin/busybox", "true").CombinedOutput()
	testutil.Require(t, err == nil, fmt.Sprintf("/bin/busybox (busybox-static): %v %s", err, out))
	out, err = exec.Command("file", "-L", "/bin/busybox").Output()
	testutil.Require(t, err != nil || !strings.Contains(string(out), "dynamically linked"), "/bin/busybox is dynamically linked; install busybox-static")
}

// diffBins builds nsx once and returns the two "nsenter" symlinks.
func diffBins(t *testing.T) (oracle, nsx string) {
	t.Helper()
	diffPrereq(t)
	diffBuild.once.Do(func() {
		// Fds this test process inherited without close-on-exec (from a
		// CI runner, say) would leak into every child: os/exec passes
		// only 0-2 and ExtraFiles but closes nothing else.
		if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
			for _, e := range ents {
				if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
					syscall.CloseOnExec(fd)
				}
			}
		}
		dir, err := os.MkdirTemp("", "nsx-diff-e2e")
		if err != nil {
			diffBuild.err = err
			return
		}
		diffBuild.dir = dir
		for _, d := range []string{"nsx", "ul"} {
			if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
				diffBuild.err = err
				return
			}
		}
		if err := buildNSXAt(filepath.Join(dir, "nsx", "nsx")); err != nil {
			diffBuild.err = err
			return
		}
		if err := os.Symlink("nsx", filepath.Join(dir, "nsx", "nsenter")); err != nil {
			diffBuild.err = err
			return
		}
		if err := os.Symlink(diffOracle, filepath.Join(dir, "ul", "nsenter")); err != nil {
			diffBuild.err = err
			return
		}
		diffBuild.nsx = filepath.Join(dir, "nsx", "nsenter")
		diffBuild.oracle = filepath.Join(dir, "ul", "nsenter")
	})
	if diffBuild.err != nil {
		t.Fatal(diffBuild.err)
	}
	return diffBuild.oracle, diffBuild.nsx
}

type diffResult struct {
	stdout, stderr string
	code           int            // exit status, or -1 when killed by a signal
	signal         syscall.Signal // the signal that killed it, if any
}

func (r diffResult) String() string {
	return fmt.Sprintf("rc=%d sig=%d stdout=%q stderr=%q", r.code, int(r.signal), r.stdout, r.stderr)
}

// diffOpts adjust one run.
type diffOpts struct {
	env        []string // added to LC_ALL=C and PATH
	stdin      string
	extraFd5   bool // pass an extra open fd 5, as a caller may
	stdoutFile *os.File
}

// diffRun runs bin with argv[0] "nsenter".
func diffRun(t *testing.T, bin string, o diffOpts, args ...string) diffResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Args = append([]string{"nsenter"}, args...)
	cmd.Env = append([]string{"LC_ALL=C", "PATH=" + diffPath}, o.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(o.stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if o.stdoutFile != nil {
		cmd.Stdout = o.stdoutFile
	}
	if o.extraFd5 {
		f, err := os.Open("/etc/hostname")
		if err != nil {
			f, err = os.Open("/etc/passwd")
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = []*os.File{nil, nil, f}
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q: timed out", bin, args)
	}
	r := diffResult{stdout: stdout.String(), stderr: stderr.String()}
	r.code, r.signal = exitOf(t, err, bin, args)
	return r
}

// diffBoth runs the same arguments through util-linux and nsx.
func diffBoth(t *testing.T, o diffOpts, args ...string) (ul, nx diffResult) {
	t.Helper()
	oracle, nsx := diffBins(t)
	return diffRun(t, oracle, o, args...), diffRun(t, nsx, o, args...)
}

var diffInodeRE = regexp.MustCompile(`:\[[0-9]+\]`)

// diffNorm replaces the fixtures' PIDs by their names and namespace inodes
// by a placeholder.
func diffNorm(s string, fx *diffFixtures) string {
	s = diffInodeRE.ReplaceAllString(s, ":[INODE]")
	if fx == nil {
		return s
	}
	for name, pid := range fx.names() {
		s = regexp.MustCompile(`\b`+strconv.Itoa(pid)+`\b`).ReplaceAllString(s, "$"+name)
	}
	return s
}

// diffSame runs both and requires identical results; it returns them.
func diffSame(t *testing.T, fx *diffFixtures, o diffOpts, args ...string) diffResult {
	t.Helper()
	ul, nx := diffBoth(t, o, args...)
	if diffNorm(ul.String(), fx) != diffNorm(nx.String(), fx) {
		t.Errorf("nsenter %q differs:\n util-linux: %s\n nsx:        %s", args, ul, nx)
	}
	return nx
}

// diffWant checks one result.
func diffWant(t *testing.T, who string, got diffResult, code int, stdout, stderr string) {
	t.Helper()
	if got.code != code || got.stdout != stdout || got.stderr != stderr {
		t.Errorf("%s: got %s\n want rc=%d stdout=%q stderr=%q", who, got, code, stdout, stderr)
	}
}

// diffShell runs script with "nsenter" found in PATH (util-linux's or nsx's
// symlink directory), as a shell would, and returns both outputs.
func diffShell(t *testing.T, script string, args ...string) (ul, nx diffResult) {
	t.Helper()
	oracle, nsx := diffBins(t)
	run := func(bin string) diffResult {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", "ulimit -c 0; " + script, "sh"}, args...)...)
		cmd.Env = []string{"LC_ALL=C", "PATH=" + filepath.Dir(bin) + ":" + diffPath}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("sh -c %q: %v\n%s", script, err, stderr.String())
		}
		return diffResult{stdout: stdout.String(), stderr: stderr.String()}
	}
	return run(oracle), run(nsx)
}

// Fixtures.

type diffFixtures struct {
	A, B, C, D, F int
	CDir          string
}

func (fx *diffFixtures) names() map[string]int {
	return map[string]int{"A": fx.A, "B": fx.B, "C": fx.C, "D": fx.D, "F": fx.F}
}

func diffDescendants(pid int) []int {
	var out []int
	for _, c := range testutil.Children(pid) {
		out = append(out, c)
		out = append(out, diffDescendants(c)...)
	}
	return out
}

func diffCmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(b)
}

// diffState is the one-letter state of pid ("" when gone).
// diffAllInState reports whether there are pids and each is in state st
// (the letter of /proc/PID/stat).
func diffAllInState(pids []int, st string) bool {
	for _, p := range pids {
		if diffState(p) != st {
			return false
		}
	}
	return len(pids) > 0
}

func diffState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// diffWaitFor polls cond for up to 10 s.
func diffWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// diffKillOnCleanup kills pid (and the process cmd, if any) and reaps it.
func diffKillOnCleanup(t *testing.T, cmd *exec.Cmd, proc *os.Process, inner *int) {
	t.Cleanup(func() {
		if inner != nil && *inner > 0 {
			syscall.Kill(*inner, syscall.SIGKILL)
		}
		if cmd != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if proc != nil {
			proc.Kill()
			proc.Wait()
		}
	})
}

// diffUnshare starts "unshare ARGS... sleep 1000" (ARGS include --fork)
// and returns the PID of the sleep inside.
func diffUnshare(t *testing.T, args ...string) int {
	t.Helper()
	cmd := exec.Command("unshare", append(args, "sleep", "1000")...)
	cmd.Env = []string{"PATH=" + diffPath}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inner := new(int)
	diffKillOnCleanup(t, cmd, nil, inner)
	diffWaitFor(t, fmt.Sprintf("unshare %q", args), func() bool {
		for _, c := range testutil.Children(cmd.Process.Pid) {
			if diffCmdline(c) == "sleep\x001000\x00" {
				*inner = c
				return true
			}
		}
		return false
	})
	return *inner
}

func diffStartFixtures(t *testing.T) *diffFixtures {
	t.Helper()
	diffBins(t)
	fx := &diffFixtures{}
	fx.A = diffUnshare(t, "-pmnuiCT", "--fork", "--mount-proc")
	fx.B = diffUnshare(t, "-pmnuiCT", "-U", "--map-root-user", "--fork", "--mount-proc")
	fx.D = diffUnshare(t, "-T", "--monotonic", "100000", "--boottime", "200000", "--fork")

	// A gets a hostname of its own, so that -u is observable.
	if out, err := exec.Command(diffOracle, "-t", strconv.Itoa(fx.A), "-u", "/bin/busybox", "hostname", "nsx-diff-a").CombinedOutput(); err != nil {
		t.Fatalf("set A's hostname: %v %s", err, out)
	}

	// C: a chroot with a static busybox, /marker and /sub.
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	fx.CDir = dir
	for _, d := range []string{"bin", "sub"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "pwd", "cat", "ls", "sleep", "hostname"} {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte("marker in C\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("chroot", dir, "/bin/busybox", "sh", "-c", "cd /sub && exec /bin/busybox sleep 1000")
	c.Env = []string{"PATH=/bin"}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	diffKillOnCleanup(t, c, nil, nil)
	fx.C = c.Process.Pid
	diffWaitFor(t, "the chroot fixture", func() bool {
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", fx.C))
		return diffCmdline(fx.C) == "/bin/busybox\x00sleep\x001000\x00" && cwd == filepath.Join(dir, "sub")
	})

	// F: an environment with a duplicate and an entry without '='.
	// os.StartProcess passes it as is (exec.Cmd would deduplicate).
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := []string{"X=first", "NOEQUALS", "Y=1", "X=second"}
	p, err := os.StartProcess(sleep, []string{"sleep", "1000"}, &os.ProcAttr{Env: wantEnv})
	if err != nil {
		t.Fatal(err)
	}
	diffKillOnCleanup(t, nil, p, nil)
	fx.F = p.Pid
	diffWaitFor(t, "the environ fixture", func() bool { return diffCmdline(fx.F) == "sleep\x001000\x00" })
	if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", fx.F)); string(b) != strings.Join(wantEnv, "\x00")+"\x00" {
		t.Fatalf("F's environ is %q", b)
	}
	return fx
}

func diffNsLink(t *testing.T, pid int, kind string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, kind))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func diffUptime(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) != 2 {
		t.Fatalf("uptime %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// diffKnownSignalDeviation accepts util-linux's result or nsx's known
// deviation: a Go program cannot learn that a signal other than SIGHUP and
// SIGINT was ignored when it started (the runtime installs its own handler
// and keeps the inherited SIG_IGN to itself), so nsx neither passes the
// ignored disposition on to the program nor survives re-raising the signal.
// Any other result is an error.
func diffKnownSignalDeviation(t *testing.T, nx, ul diffResult, deviationStdout string) {
	t.Helper()
	switch {
	case nx == ul:
	case nx.stdout == deviationStdout:
		t.Logf("known deviation (inherited SIG_IGN is lost in a Go process): nsx %s, util-linux %s", nx, ul)
	default:
		t.Errorf("nsx: %s, util-linux %s", nx, ul)
	}
}

// missingPID is a PID no process has (pid_max is at most 4194304).
const missingPID = "999999"

func TestNsenterDiff(t *testing.T) {
	diffPrereq(t)
	fx := diffStartFixtures(t)
	A, B, C, D, F := strconv.Itoa(fx.A), strconv.Itoa(fx.B), strconv.Itoa(fx.C), strconv.Itoa(fx.D), strconv.Itoa(fx.F)
	if _, err := os.Stat("/proc/" + missingPID); err == nil {
		t.Fatalf("PID %s exists", missingPID)
	}
	none := diffOpts{}
	kinds := []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}
	probe := "for k in " + strings.Join(kinds, " ") + "; do readlink /proc/self/ns/$k; done"

	// same lists cases whose output must be identical, with what util-linux
	// must print (a sanity check of the oracle and the fixture).
	same := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"net", []string{"-t", A, "-n", "readlink", "/proc/self/ns/net"}, 0, diffNsLink(t, fx.A, "net") + "\n", ""},
		{"uts", []string{"-t", A, "-u", "cat", "/proc/sys/kernel/hostname"}, 0, "nsx-diff-a\n", ""},
		// As host root, id prints 0 whether or not B's user namespace
		// was joined: its inode shows it.
		{"all-B-id", []string{"-t", B, "-a", "sh", "-c", "readlink /proc/self/ns/user; id"}, 0,
			diffNsLink(t, fx.B, "user") + "\nuid=0(root) gid=0(root) groups=0(root)\n", ""},
		{"missing-n", []string{"-t", missingPID, "-n", "true"}, 1, "", "nsenter: cannot open /proc/999999/ns/net: No such file or directory\n"},
		{"missing-nmuC", []string{"-t", missingPID, "-n", "-m", "-u", "-C", "true"}, 1, "", "nsenter: cannot open /proc/999999/ns/cgroup: No such file or directory\n"},
		{"missing-a", []string{"-t", missingPID, "-a", "true"}, 1, "", "nsenter: stat of /proc/999999/ns/user failed: No such file or directory\n"},
		{"net-passwd", []string{"--net=/etc/passwd", "true"}, 1, "", "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n"},
		{"net-uts-file", []string{"--net=/proc/" + A + "/ns/uts", "true"}, 1, "", "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n"},
		{"net-nonexistent", []string{"--net=/nonexistent", "true"}, 1, "", "nsenter: cannot open /nonexistent: No such file or directory\n"},
		{"enoent", []string{"-t", A, "-n", "nonexistent_cmd"}, 127, "", "nsenter: failed to execute nonexistent_cmd: No such file or directory\n"},
		{"eacces", []string{"-t", A, "-n", "/etc/passwd"}, 126, "", "nsenter: failed to execute /etc/passwd: Permission denied\n"},
		{"pid-enoent", []string{"-t", A, "-p", "nonexistent_cmd"}, 127, "", "nsenter: failed to execute nonexistent_cmd: No such file or directory\n"},
		{"C-m-r-w", []string{"-t", C, "-m", "-r", "-w", "/bin/pwd"}, 0, "/sub\n", ""},
		{"C-m-r-Wsub", []string{"-t", C, "-m", "-r", "-W/sub", "/bin/pwd"}, 0, "/sub\n", ""},
		{"C-m-r-marker", []string{"-t", C, "-m", "-r", "cat", "/marker"}, 0, "marker in C\n", ""},
		{"C-m-w", []string{"-t", C, "-m", "-w", "pwd"}, 0, fx.CDir + "/sub\n", ""},
		{"C-root-file", []string{"-t", C, "-m", "--root=/etc/passwd", "true"}, 1, "", "nsenter: change directory by root file descriptor failed: Not a directory\n"},
		{"C-wd-file", []string{"-t", C, "-m", "--wd=/etc/passwd", "true"}, 1, "", "nsenter: change directory by working directory file descriptor failed: Not a directory\n"},
		{"C-W-nonexistent", []string{"-t", C, "-m", "-r", "-W/nonexistent", "true"}, 1, "", "nsenter: cannot open current working directory: No such file or directory\n"},
		{"C-wdns-long-separate", []string{"-t", C, "-m", "-r", "--wdns", "/sub", "/bin/pwd"}, 126, "", "nsenter: failed to execute /sub: Permission denied\n"},
		{"w-W-exclusive", []string{"-t", C, "-w", "-W/", "true"}, 1, "", "nsenter: mutually exclusive arguments: --wdns --wd\n"},
		{"wd-wdns-exclusive", []string{"--wd=/", "--wdns=/", "true"}, 1, "", "nsenter: mutually exclusive arguments: --wdns --wd\n"},
		// --keep-caps raises the capabilities of the user namespace as
		// ambient ones, which the program keeps across execve.
		{"B-U-u-keep-caps", []string{"-t", B, "-U", "-u", "--keep-caps", "awk", `/^CapAmb/ { print ($2 ~ /^0+$/) ? "none" : "raised" }`, "/proc/self/status"}, 0, "raised\n", ""},
		{"B-U-u-no-keep-caps", []string{"-t", B, "-U", "-u", "awk", `/^CapAmb/ { print ($2 ~ /^0+$/) ? "none" : "raised" }`, "/proc/self/status"}, 0, "none\n", ""},
		// The pair is refused as the parser meets it, in argv order:
		// before a later -w file is opened or a later bad option is
		// reported. So the CLI checks it; the planner's check is for
		// library callers.
		{"W-w-before-open", []string{"-W", "-w/nonexistent", "true"}, 1, "", "nsenter: mutually exclusive arguments: --wdns --wd\n"},
		{"w-W-before-bad-option", []string{"-w", "-W", "--bogus", "true"}, 1, "", "nsenter: mutually exclusive arguments: --wdns --wd\n"},
		{"S-1000", []string{"-t", A, "-n", "-S", "1000", "id", "-u"}, 0, "1000\n", ""},
		{"S-G-1000", []string{"-t", A, "-n", "-S", "1000", "-G", "1000", "sh", "-c", "id -u; id -g; id -G"}, 0, "1000\n1000\n1000\n", ""},
		{"S-1000-groups", []string{"-t", A, "-n", "-S", "1000", "sh", "-c", "id -g; id -G"}, 0, "0\n0\n", ""},
		{"cluster-nt", []string{"-nt", A}, 1, "", "nsenter: cannot open t: No such file or directory\n"},
		{"targ-prefix", []string{"--targ=" + A, "--net", "readlink", "/proc/self/ns/net"}, 0, diffNsLink(t, fx.A, "net") + "\n", ""},
		{"w-ambiguous", []string{"--w=/x"}, 1, "", "nsenter: option '--w=/x' is ambiguous; possibilities: '--wd' '--wdns'\nTry 'nsenter --help' for more information.\n"},
		{"stop-at-operand", []string{"-t", A, "-n", "echo", "-n", "x"}, 0, "x", ""},
		{"dashdash", []string{"-t", A, "-n", "--", "-x"}, 127, "", "nsenter: failed to execute -x: No such file or directory\n"},
		{"invalid-x", []string{"-x"}, 1, "", "nsenter: invalid option -- 'x'\nTry 'nsenter --help' for more information.\n"},
		{"unrecognized", []string{"--foo"}, 1, "", "nsenter: unrecognized option '--foo'\nTry 'nsenter --help' for more information.\n"},
		{"t-needs-arg", []string{"-t"}, 1, "", "nsenter: option requires an argument -- 't'\nTry 'nsenter --help' for more information.\n"},
		{"all-no-arg", []string{"--all=foo"}, 1, "", "nsenter: option '--all' doesn't allow an argument\nTry 'nsenter --help' for more information.\n"},
		{"first-error-wins", []string{"--net=/nonexistent", "--bogus"}, 1, "", "nsenter: cannot open /nonexistent: No such file or directory\n"},
		{"t-abc", []string{"-t", "abc", "-n", "true"}, 1, "", "nsenter: failed to parse pid: 'abc'\n"},
		{"S-abc", []string{"-S", "abc"}, 1, "", "nsenter: failed to parse uid: 'abc'\n"},
		{"G-abc", []string{"-G", "12abc"}, 1, "", "nsenter: failed to parse gid: '12abc'\n"},
		// 2.41 (unlike 2.38) checks the namespaces after the parse
		// errors and refuses to run with nothing to enter.
		{"G-minus-1", []string{"-t", A, "-n", "-G", "-1", "id"}, 1, "", "nsenter: failed to parse gid: '-1': Numerical result out of range\n"},
		{"G-minus-1-nothing", []string{"-G", "-1"}, 1, "", "nsenter: failed to parse gid: '-1': Numerical result out of range\n"},
		{"S-4294967295", []string{"-t", A, "-n", "-S", "4294967295", "id"}, 1, "", "nsenter: setuid() failed: Invalid argument\n"},
		{"B-U-S-1000", []string{"-t", B, "-U", "-S", "1000", "id"}, 1, "", "nsenter: setuid() failed: Invalid argument\n"},
		{"C-r-nothing", []string{"-t", C, "-r", "/bin/pwd"}, 1, "", "nsenter: no namespace specified\n"},
		{"C-r-w-nothing", []string{"-t", C, "-r", "-w", "/bin/pwd"}, 1, "", "nsenter: no namespace specified\n"},
		{"C-r-cat-nothing", []string{"-t", C, "-r", "cat", "/marker"}, 1, "", "nsenter: no namespace specified\n"},
		{"C-w-nothing", []string{"-t", C, "-w", "pwd"}, 1, "", "nsenter: no namespace specified\n"},
		{"root-file-nothing", []string{"--root=/etc/passwd", "true"}, 1, "", "nsenter: no namespace specified\n"},
		{"nothing", []string{"true"}, 1, "", "nsenter: no namespace specified\n"},
		{"nothing-operand-n", []string{"true", "-n"}, 1, "", "nsenter: no namespace specified\n"},
		// -W takes an optional argument (≥2.39): a separate word is
		// the program.
		{"C-W-separate", []string{"-t", C, "-m", "-r", "-W", "/sub", "/bin/pwd"}, 126, "", "nsenter: failed to execute /sub: Permission denied\n"},
		// --net-socket (2.41) makes --ne ambiguous.
		{"ne-ambiguous", []string{"--targ=" + A, "--ne", "readlink", "/proc/self/ns/net"}, 1, "", "nsenter: option '--ne' is ambiguous; possibilities: '--net' '--net-socket'\nTry 'nsenter --help' for more information.\n"},
		{"n-no-target", []string{"-n", "true"}, 1, "", "nsenter: no target PID specified\n"},
		// 2.41: entries without '=' dropped, the last duplicate wins.
		{"environ", []string{"-t", F, "-n", "-e", "env"}, 0, "X=second\nY=1\n", ""},
		{"p-exit-42", []string{"-t", A, "-p", "sh", "-c", "exit 42"}, 42, "", ""},
		{"p-F-exit-42", []string{"-t", A, "-p", "-F", "sh", "-c", "exit 42"}, 42, "", ""},
		{"nested-sh-under-F", []string{"-t", A, "-p", "-F", "sh", "-c", "sh -c 'echo $$'"}, 0, "", ""}, // stdout checked below
	}
	// Where nsx says more than 2.41 (docs/compat.md).
	deviations := []struct {
		name, ulStderr, nxStderr string
		args                     []string
	}{
		// 2.41 joins through the pidfd and names nothing; nsx names the
		// namespace the kernel refused.
		{"own-user", "nsenter: reassociate to namespaces failed: Invalid argument\n", "nsenter: reassociate to namespace 'ns/user' failed: Invalid argument\n", []string{"-t", A, "-U", "true"}},
		{"all-own-user", "nsenter: reassociate to namespaces failed: Invalid argument\n", "nsenter: reassociate to namespace 'ns/user' failed: Invalid argument\n", []string{"-t", A, "-a", "-U", "true"}},
		// 2.41 allows -a without -t but then fails at stat of /proc/0.
		{"all-no-target", "nsenter: stat of /proc/0/ns/user failed: No such file or directory\n", "nsenter: no target PID specified for --all\n", []string{"-a", "true"}},
	}
	t.Run("deviations", func(t *testing.T) {
		for _, c := range deviations {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				ul, nx := diffBoth(t, none, c.args...)
				diffWant(t, "util-linux", ul, 1, "", c.ulStderr)
				diffWant(t, "nsx", nx, 1, "", c.nxStderr)
			})
		}
	})
	t.Run("same", func(t *testing.T) {
		for _, c := range same {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				ul, nx := diffBoth(t, none, c.args...)
				if c.name == "nested-sh-under-F" {
					// Children of a -F nsenter are in the target PID
					// namespace: a small number in both.
					for who, r := range map[string]diffResult{"util-linux": ul, "nsx": nx} {
						n, err := strconv.Atoi(strings.TrimSpace(r.stdout))
						if err != nil || n < 1 || n >= 300 || r.code != 0 || r.stderr != "" {
							t.Errorf("%s: %s: want a small PID", who, r)
						}
					}
					return
				}
				diffWant(t, "util-linux", ul, c.code, c.stdout, c.stderr)
				diffWant(t, "nsx", nx, c.code, c.stdout, c.stderr)
			})
		}
	})

	t.Run("enter-all", func(t *testing.T) {
		t.Parallel()
		var want strings.Builder
		for _, k := range kinds {
			if k == "user" {
				want.WriteString(diffNsLink(t, os.Getpid(), k) + "\n")
			} else {
				want.WriteString(diffNsLink(t, fx.A, k) + "\n")
			}
		}
		r := diffSame(t, fx, none, "-t", A, "-a", "sh", "-c", probe)
		diffWant(t, "nsx", r, 0, want.String(), "")
		// B: the user namespace is entered too.
		r = diffSame(t, fx, none, "-t", B, "-a", "readlink", "/proc/self/ns/user")
		diffWant(t, "nsx", r, 0, diffNsLink(t, fx.B, "user")+"\n", "")
	})

	t.Run("exit-codes", func(t *testing.T) {
		for _, n := range []int{0, 1, 2, 3, 42, 100, 125, 126, 127, 128, 129, 200, 254, 255} {
			t.Run(strconv.Itoa(n), func(t *testing.T) {
				t.Parallel()
				exit := fmt.Sprintf("exit %d", n)
				for _, args := range [][]string{
					{"-t", A, "-p", "sh", "-c", exit},
					{"-t", A, "-n", "sh", "-c", exit},
					{"-t", A, "-n", "-F", "sh", "-c", exit},
					{"-t", B, "-U", "-n", "sh", "-c", exit},
				} {
					r := diffSame(t, fx, none, args...)
					diffWant(t, "nsx", r, n, "", "")
				}
			})
		}
	})

	t.Run("signals", func(t *testing.T) {
		for sig, signum := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "SEGV": syscall.SIGSEGV, "USR1": syscall.SIGUSR1} {
			status := 128 + int(signum)
			t.Run(sig, func(t *testing.T) {
				t.Parallel()
				kill := "kill -" + sig + " $$"
				for _, args := range [][]string{
					{"-t", A, "-p", "sh", "-c", kill},
					{"-t", A, "-n", "sh", "-c", kill},
					{"-t", B, "-a", "sh", "-c", kill},
				} {
					ul, nx := diffShell(t, `nsenter "$@"; echo "rc=$?"`, args...)
					// stderr: the shell's own report ("Killed"), the same.
					if ul.stdout != fmt.Sprintf("rc=%d\n", status) {
						t.Errorf("util-linux %q: %s", args, ul)
					}
					if nx != ul {
						t.Errorf("nsx %q: %s, util-linux %s", args, nx, ul)
					}
					// And as the parent sees it: killed by that signal
					// (not SEGV here: no core files outside ulimit -c 0).
					if sig != "SEGV" {
						_, nsx := diffBins(t)
						r := diffRun(t, nsx, none, args...)
						if r.code != -1 || r.signal != signum {
							t.Errorf("nsx %q: %s: want death by SIG%s", args, r, sig)
						}
					}
				}
			})
		}
		t.Run("USR1-ignored-in-parent", func(t *testing.T) {
			t.Parallel()
			// The parent inherits an ignored SIGUSR1; the program resets
			// it and kills itself. util-linux cannot die of it: rc 1.
			ul, nx := diffShell(t, `trap "" USR1; nsenter "$@"; echo "rc=$?"`,
				"-t", A, "-p", "perl", "-e", `$SIG{USR1} = "DEFAULT"; kill "USR1", $$; sleep 5`)
			if ul != (diffResult{stdout: "rc=1\n"}) {
				t.Errorf("util-linux: %s", ul)
			}
			diffKnownSignalDeviation(t, nx, ul, "rc=138\n")
			// The program inherits the ignored signals (execve keeps
			// SIG_IGN) under util-linux.
			ul, nx = diffShell(t, `trap "" USR1; nsenter "$@"; echo "rc=$?"`,
				"-t", A, "-n", "sh", "-c", `kill -USR1 $$; echo alive`)
			if ul != (diffResult{stdout: "alive\nrc=0\n"}) {
				t.Errorf("util-linux: %s", ul)
			}
			diffKnownSignalDeviation(t, nx, ul, "rc=138\n")
		})
	})

	t.Run("pid-namespace-pids", func(t *testing.T) {
		t.Parallel()
		for _, who := range []string{"util-linux", "nsx"} {
			oracle, nsx := diffBins(t)
			bin := map[string]string{"util-linux": oracle, "nsx": nsx}[who]
			r := diffRun(t, bin, none, "-t", A, "-p", "sh", "-c", "echo $$")
			if n, err := strconv.Atoi(strings.TrimSpace(r.stdout)); err != nil || n < 2 || n >= 300 || r.code != 0 {
				t.Errorf("%s -p: %s: want a small PID inside A", who, r)
			}
			// -F: the shell itself stays in the caller's PID namespace,
			// where its PID has one level.
			r = diffRun(t, bin, none, "-t", A, "-p", "-F", "sh", "-c", `echo $$; grep NSpid /proc/$$/status`)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if r.code != 0 || len(lines) != 2 || lines[1] != "NSpid:\t"+lines[0] {
				t.Errorf("%s -p -F: %s: want a host PID", who, r)
			}
		}
	})

	t.Run("chroot", func(t *testing.T) {
		t.Parallel()
		// -r without -w/-W: util-linux leaves the cwd outside the new root
		// (getcwd fails); nsx starts in the new root's "/" (§10.3). 2.41
		// also needs a namespace, hence -m.
		ul, nx := diffBoth(t, none, "-t", C, "-m", "-r", "/bin/pwd")
		diffWant(t, "util-linux", ul, 1, "", "pwd: getcwd: No such file or directory\n")
		diffWant(t, "nsx", nx, 0, "/\n", "")
	})

	t.Run("time", func(t *testing.T) {
		t.Parallel()
		host := func() float64 {
			b, err := os.ReadFile("/proc/uptime")
			if err != nil {
				t.Fatal(err)
			}
			return diffUptime(t, string(b))
		}
		before := host()
		ul, nx := diffBoth(t, none, "-t", D, "-T", "cat", "/proc/uptime")
		after := host()
		for who, r := range map[string]diffResult{"util-linux": ul, "nsx": nx} {
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%s: %s", who, r)
			}
			if up := diffUptime(t, r.stdout); up < before+200000-1 || up > after+200000+1 {
				t.Errorf("%s: uptime %.2f, host %.2f..%.2f: want host + 200000", who, up, before, after)
			}
		}
		// -F: util-linux joins the time namespace in place; nsx, being
		// multithreaded, cannot, and says so.
		ul, nx = diffBoth(t, none, "-t", D, "-T", "-F", "cat", "/proc/uptime")
		if ul.code != 0 || diffUptime(t, ul.stdout) < before+200000-1 {
			t.Errorf("util-linux -F: %s", ul)
		}
		if nx.code != 1 || !strings.HasPrefix(nx.stderr, "nsenter: --no-fork cannot enter a user or time namespace") {
			t.Errorf("nsx -F: %s", nx)
		}
	})

	t.Run("option-parsing-2.41", func(t *testing.T) {
		t.Parallel()
		// 2.41 added --net-socket and --user-parent: more ambiguities.
		for _, c := range []struct{ arg, added string }{{"--n=x", "'--net-socket'"}, {"--u=x", "'--user-parent'"}} {
			ul, nx := diffBoth(t, none, c.arg)
			prefix := "nsenter: option '" + c.arg + "' is ambiguous; possibilities:"
			try := "Try 'nsenter --help' for more information.\n"
			if ul.code != 1 || !strings.HasPrefix(ul.stderr, prefix) || !strings.HasSuffix(ul.stderr, try) {
				t.Fatalf("util-linux %s: %s", c.arg, ul)
			}
			if nx.code != 1 || !strings.HasPrefix(nx.stderr, prefix) || !strings.HasSuffix(nx.stderr, try) || nx.stdout != "" {
				t.Fatalf("nsx %s: %s", c.arg, nx)
			}
			if nx.stderr != ul.stderr {
				t.Errorf("%s: nsx %q, util-linux 2.41 %q", c.arg, nx.stderr, ul.stderr)
			}
			if !strings.Contains(nx.stderr, c.added) {
				t.Errorf("nsx %s: %q lacks the 2.41 option %s", c.arg, nx.stderr, c.added)
			}
		}
	})

	t.Run("environment", func(t *testing.T) {
		t.Parallel()
		// 2.41: entries without '=' dropped, the last duplicate wins,
		// nothing of the caller's environment is kept.
		_, nsx := diffBins(t)
		r := diffRun(t, nsx, diffOpts{env: []string{"CALLER=1"}}, "-t", F, "-n", "-e", "env")
		diffWant(t, "nsx", r, 0, "X=second\nY=1\n", "")
	})

	t.Run("shell", func(t *testing.T) {
		t.Parallel()
		in := diffOpts{stdin: "echo $0\n", env: []string{"SHELL=/bin/sh"}}
		r := diffSame(t, fx, in, "-t", A, "-n")
		diffWant(t, "nsx", r, 0, "-sh\n", "")
		r = diffSame(t, fx, diffOpts{stdin: "echo $0\n"}, "-t", A, "-n")
		diffWant(t, "nsx", r, 0, "-sh\n", "")
		r = diffSame(t, fx, diffOpts{stdin: "echo $0\n", env: []string{"SHELL="}}, "-t", A, "-n")
		diffWant(t, "nsx", r, 127, "", "nsenter: failed to execute : No such file or directory\n")
		// Through the raw-clone path too.
		r = diffSame(t, fx, in, "-t", B, "-a")
		diffWant(t, "nsx", r, 0, "-sh\n", "")
	})

	t.Run("help", func(t *testing.T) {
		t.Parallel()
		ul, nx := diffBoth(t, none, "-h")
		for who, r := range map[string]diffResult{"util-linux": ul, "nsx": nx} {
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "\nUsage:\n nsenter [options] [<program> [<argument>...]]\n") {
				t.Errorf("%s -h: %s", who, r)
			}
		}
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer full.Close()
		for _, arg := range []string{"--help", "-V"} {
			ul, nx := diffBoth(t, diffOpts{stdoutFile: full}, arg)
			diffWant(t, "util-linux "+arg, ul, 1, "", "nsenter: write error: No space left on device\n")
			diffWant(t, "nsx "+arg, nx, 1, "", "nsenter: write error: No space left on device\n")
		}
	})

	t.Run("fds", func(t *testing.T) {
		t.Parallel()
		list := "ls /proc/$$/fd"
		for _, args := range [][]string{
			{"-t", A, "-n", "sh", "-c", list},
			{"-t", A, "-p", "-m", "sh", "-c", list},
			{"-t", A, "-n", "-F", "sh", "-c", list},
			{"-t", B, "-a", "sh", "-c", list},
		} {
			r := diffSame(t, fx, none, args...)
			diffWant(t, "nsx", r, 0, "0\n1\n2\n", "")
			r = diffSame(t, fx, diffOpts{extraFd5: true}, args...)
			diffWant(t, "nsx", r, 0, "0\n1\n2\n5\n", "")
		}
	})

	// Ctrl-Z then fg: the terminal stops and continues the whole process
	// group. nsenter must be running again after the continue, not stop
	// itself a second time on a stale report of its child's stop.
	// util-linux 2.38 has that race (here it loses it most rounds); nsx
	// checks that the child is still stopped before relaying a stop. Only
	// nsx is held to it; util-linux's outcome is logged.
	t.Run("group-stop-continue", func(t *testing.T) {
		t.Parallel()
		oracle, nsx := diffBins(t)
		for who, bin := range map[string]string{"util-linux": oracle, "nsx": nsx} {
			report := t.Errorf
			if who == "util-linux" {
				report = t.Logf
			}
			for round := 0; round < 5; round++ {
				cmd := exec.Command(bin, "-t", A, "-p", "sleep", "0.6")
				cmd.Args[0] = "nsenter"
				cmd.Env = []string{"LC_ALL=C", "PATH=" + diffPath}
				cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				pid := cmd.Process.Pid
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				diffWaitFor(t, who+"'s program to start", func() bool { return len(diffDescendants(pid)) > 0 })
				syscall.Kill(-pid, syscall.SIGTSTP)
				// nsx's whole run stops; util-linux (only logged) may
				// already have continued its program in its race.
				diffWaitFor(t, who+" and its program to stop", func() bool {
					return diffState(pid) == "T" && (who == "util-linux" || diffAllInState(diffDescendants(pid), "T"))
				})
				syscall.Kill(-pid, syscall.SIGCONT)
				// Once continued, the program ends by itself. An nsenter
				// that stopped itself again on a stale report stays
				// stopped with its program a zombie it cannot reap; one
				// that works reaps it and exits.
				var err error
				finished, stuck := false, false
				for deadline := time.Now().Add(10 * time.Second); !finished && time.Now().Before(deadline); {
					select {
					case err = <-done:
						finished = true
					case <-time.After(5 * time.Millisecond):
						if !stuck && diffState(pid) == "T" && diffAllInState(diffDescendants(pid), "Z") {
							stuck = true
							report("%s, round %d: stopped again after the group was continued", who, round)
							syscall.Kill(-pid, syscall.SIGCONT)
						}
					}
				}
				switch {
				case !finished:
					syscall.Kill(-pid, syscall.SIGKILL)
					<-done
					t.Errorf("%s, round %d: did not finish", who, round)
				case err != nil:
					t.Errorf("%s, round %d: %v, want exit status 0", who, round, err)
				}
			}
		}
	})

	t.Run("stop-continue", func(t *testing.T) {
		t.Parallel()
		oracle, nsx := diffBins(t)
		for who, bin := range map[string]string{"util-linux": oracle, "nsx": nsx} {
			cmd := exec.Command(bin, "-t", A, "-p", "sh", "-c", "kill -STOP $$; exit 7")
			cmd.Args[0] = "nsenter"
			cmd.Env = []string{"LC_ALL=C", "PATH=" + diffPath}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pid := cmd.Process.Pid
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			stoppedShell := func() bool {
				for _, d := range diffDescendants(pid) {
					if strings.HasPrefix(diffCmdline(d), "sh\x00") && diffState(d) == "T" {
						return true
					}
				}
				return false
			}
			// nsenter stopped with the shell, which stopped itself, and
			// its other processes (nsx's relaying one) sleeping in the
			// kernel: no process of the run can continue it now, so the
			// stop is not transient.
			diffWaitFor(t, who+" to stop with its child", func() bool {
				if diffState(pid) != "T" || !stoppedShell() {
					return false
				}
				for _, d := range diffDescendants(pid) {
					if st := diffState(d); st != "T" && st != "S" {
						return false
					}
				}
				return true
			})
			syscall.Kill(pid, syscall.SIGCONT)
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != 7 {
					t.Errorf("%s: %v (stderr %q), want exit status 7", who, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				for _, d := range diffDescendants(pid) {
					syscall.Kill(d, syscall.SIGKILL)
				}
				<-done
				t.Errorf("%s: did not exit after SIGCONT", who)
			}
		}
	})
}
