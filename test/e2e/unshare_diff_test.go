package e2e

// Differential tests for unshare: the same command lines run through
// util-linux 2.41.5's unshare (the oracle) and nsx invoked as "unshare",
// comparing exit status, stdout and stderr after replacing PIDs and
// namespace inodes by placeholders. Where the outputs must differ (new
// namespaces have new inodes) the test asserts what the kernel reports.
// Run as root; under CI=true a missing prerequisite fails.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

// unshareTools are the programs of one run: the oracle and nsx, each as
// "unshare", and nsx as "nsx" and the oracle's nsenter for persistence.
type unshareTools struct {
	oracle, nsx, nsxMain, oracleNsenter string
	dir                                 string // a scratch directory named after the helper
}

func unshareSetup(t *testing.T) *unshareTools {
	t.Helper()
	testutil.RequireRoot(t)
	tools := &unshareTools{
		oracle:        testutil.OracleAs(t, "unshare", "unshare"),
		oracleNsenter: testutil.OracleAs(t, "nsenter", "nsenter"),
	}
	for _, tool := range []string{"sh", "cat", "id", "grep", "readlink", "findmnt"} {
		testutil.RequireTool(t, tool)
	}
	bin := t.TempDir()
	if err := buildNSXAt(filepath.Join(bin, "nsx")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nsx", filepath.Join(bin, "unshare")); err != nil {
		t.Fatal(err)
	}
	tools.nsx, tools.nsxMain = filepath.Join(bin, "unshare"), filepath.Join(bin, "nsx")
	dir, err := os.MkdirTemp("", "nsx-unshare-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Persistent namespace files left by a failed assertion.
		exec.Command("umount", "-R", "-l", dir).Run()
		os.RemoveAll(dir)
	})
	tools.dir = dir
	return tools
}

type unshareResult struct {
	stdout, stderr string
	code           int
	signal         syscall.Signal
}

func (r unshareResult) String() string {
	return fmt.Sprintf("rc=%d sig=%d stdout=%q stderr=%q", r.code, int(r.signal), r.stdout, r.stderr)
}

type unshareOpts struct {
	env   []string
	stdin string
}

func unshareRun(t *testing.T, bin string, o unshareOpts, args ...string) unshareResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Args[0] = filepath.Base(bin)
	cmd.Env = append([]string{"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SHELL=/bin/sh"}, o.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin = strings.NewReader(o.stdin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q: timed out", bin, args)
	}
	r := unshareResult{stdout: stdout.String(), stderr: stderr.String()}
	r.code, r.signal = exitOf(t, err, bin, args)
	return r
}

var (
	unsharePidRE   = regexp.MustCompile(`/proc/[0-9]+/`)
	unshareInodeRE = regexp.MustCompile(`:\[[0-9]+\]`)
)

func unshareNorm(s string) string {
	s = unsharePidRE.ReplaceAllString(s, "/proc/PID/")
	return unshareInodeRE.ReplaceAllString(s, ":[INODE]")
}

// same runs args through both and requires identical normalised results.
func (u *unshareTools) same(t *testing.T, o unshareOpts, args ...string) unshareResult {
	t.Helper()
	ul, nx := unshareRun(t, u.oracle, o, args...), unshareRun(t, u.nsx, o, args...)
	ul.stdout, ul.stderr = unshareNorm(ul.stdout), unshareNorm(ul.stderr)
	nx.stdout, nx.stderr = unshareNorm(nx.stdout), unshareNorm(nx.stderr)
	if ul != nx {
		t.Errorf("unshare %q:\n  util-linux: %v\n  nsx:        %v", args, ul, nx)
	}
	return nx
}

func TestUnshareDiff(t *testing.T) {
	u := unshareSetup(t)
	maps := []string{"cat", "/proc/self/uid_map", "/proc/self/gid_map", "/proc/self/setgroups"}
	cases := []struct {
		name string
		args []string
		want int // the exit status both must have, so a case cannot pass by both failing alike
	}{
		// Grammar and usage.
		{"help", []string{"--help"}, 0},
		{"version", []string{"-V"}, 0},
		{"unknown long", []string{"--bogus"}, 1},
		{"unknown short", []string{"-x"}, 1},
		{"short takes no file", []string{"-n=/x", "true"}, 1},
		{"ambiguous map", []string{"--map", "true"}, 1},
		{"ambiguous map-u", []string{"--map-u=0", "true"}, 1},
		{"ambiguous s", []string{"--s", "x", "true"}, 1},
		{"ambiguous m", []string{"--m", "true"}, 1},
		{"missing argument", []string{"--root"}, 1},
		{"missing short argument", []string{"-S"}, 1},
		{"argument not allowed", []string{"--fork=yes", "true"}, 1},
		{"stops at program", []string{"-u", "sh", "-c", "echo $0 $1", "-n", "-x"}, 0},
		{"double dash", []string{"-u", "--", "echo", "hi"}, 0},
		{"option program", []string{"-u", "--", "-c"}, 127},

		// Bad values.
		{"propagation", []string{"--propagation", "bad", "true"}, 1},
		{"setgroups", []string{"--setgroups", "bad", "true"}, 1},
		{"kill-child name", []string{"--kill-child=BAD", "true"}, 1},
		{"kill-child number", []string{"--kill-child=15", "true"}, 1},
		{"kill-child empty", []string{"--kill-child=", "true"}, 1},
		{"monotonic without -T", []string{"--monotonic", "5", "true"}, 1},
		{"boottime garbage", []string{"--boottime", "x", "-T", "true"}, 1},
		{"monotonic fraction", []string{"--monotonic", "1.5", "-T", "true"}, 1},
		{"monotonic range", []string{"--monotonic", "99999999999999999999", "-T", "true"}, 1},
		{"map-user name", []string{"--map-user", "nsx-unshare-nosuch", "true"}, 1},
		{"map-group name", []string{"--map-group", "nsx-unshare-nosuch", "true"}, 1},
		{"map-user negative", []string{"--map-user", "-1", "true"}, 1},
		{"map-users", []string{"--map-users", "bad", "true"}, 1},
		{"map-users two fields", []string{"--map-users", "1:2", "true"}, 1},
		{"map-users four fields", []string{"--map-users", "1:2:3:4", "true"}, 1},
		{"map-users trailing", []string{"--map-users", "1:2:3x", "true"}, 1},
		{"setuid garbage", []string{"-S", "abc", "true"}, 1},
		{"setuid negative", []string{"-S", "-1", "true"}, 1},
		{"setgid garbage", []string{"-G", "5x", "true"}, 1},
		{"setuid first", []string{"-S", "-1", "-G", "x", "true"}, 1},
		{"setgroups allow with -r", []string{"-r", "--setgroups", "allow", "true"}, 1},
		{"value error before usage error", []string{"--propagation", "bad", "--bogus"}, 1},
		{"usage error before later value", []string{"--bogus", "--propagation", "bad"}, 1},

		// Failures once running.
		{"setgroups without user ns", []string{"--setgroups", "deny", "true"}, 1},
		{"no root", []string{"-R", "/nonexistent-nsx-unshare", "true"}, 1},
		{"no wd", []string{"-w", "/nonexistent-nsx-unshare", "true"}, 1},
		{"missing program", []string{"/nonexistent-nsx-unshare"}, 127},
		{"missing program in PATH", []string{"nsx-unshare-nosuch"}, 127},
		{"not executable", []string{"/etc/passwd"}, 126},
		{"missing program forked", []string{"-fp", "/nonexistent-nsx-unshare"}, 127},
		{"not executable forked", []string{"-f", "/etc/passwd"}, 126},
		{"mount-proc missing dir", []string{"-fp", "--mount-proc=/nonexistent-nsx-unshare", "true"}, 1},
		{"setuid unmapped", []string{"-U", "-S", "5", "true"}, 1},
		{"setgid with setgroups denied", []string{"-r", "-S", "0", "-G", "0", "true"}, 1},
		{"setgroups unmapped", []string{"-U", "-G", "5", "true"}, 1},
		{"overlapping uid maps", []string{"--map-users", "0:0:1", "--map-users", "0:5:1", "true"}, 1},
		{"overlapping gid maps", []string{"--map-groups", "0:0:1", "--map-groups", "0:5:1", "true"}, 1},
		{"offset out of range", []string{"-T", "--monotonic", "5", "--boottime", "99999999999", "true"}, 1},
		{"persist file missing", []string{"--net=/nonexistent-nsx-unshare/f", "true"}, 1},
		{"persist order", []string{"--net=/nonexistent-nsx-unshare/n", "--uts=/nonexistent-nsx-unshare/u", "--cgroup=/nonexistent-nsx-unshare/c", "-f", "true"}, 1},

		// Effects.
		{"pid 1", []string{"-fp", "sh", "-c", "echo $$"}, 0},
		{"pid 1 with proc", []string{"-fp", "--mount-proc", "readlink", "/proc/self"}, 0},
		{"proc elsewhere", []string{"-fp", "--mount-proc=/mnt", "readlink", "/mnt/self"}, 0},
		{"exit status", []string{"sh", "-c", "exit 7"}, 7},
		{"exit status forked", []string{"-f", "sh", "-c", "exit 7"}, 7},
		{"death by signal", []string{"sh", "-c", "kill -TERM $$"}, -1},
		{"death by signal forked", []string{"-f", "sh", "-c", "kill -TERM $$"}, -1},
		{"kill-child", []string{"--kill-child", "true"}, 0},
		{"kill-child name", []string{"--kill-child=sigusr1", "-p", "sh", "-c", "echo $$"}, 0},
		{"no map", []string{"-U", "id"}, 0},
		{"map root", append([]string{"-r"}, maps...), 0},
		{"map current", append([]string{"-c"}, maps...), 0},
		{"map user", append([]string{"--map-user", "5"}, maps...), 0},
		{"map user by name", append([]string{"--map-user", "daemon", "--map-group", "daemon"}, maps...), 0},
		{"map group", append([]string{"--map-group", "7"}, maps...), 0},
		{"map users", append([]string{"--map-users", "0:1000:10", "--map-users", "100:5000:5"}, maps...), 0},
		{"map users deprecated", append([]string{"--map-users", "1000,0,10"}, maps...), 0},
		{"map users hole", append([]string{"--map-user", "3", "--map-users", "0:0:10"}, maps...), 0},
		{"map users hole root", append([]string{"-r", "--map-users", "0:0:10"}, maps...), 0},
		{"map users all", append([]string{"--map-users", "all"}, maps...), 0},
		{"map groups all with group", append([]string{"--map-groups", "all", "--map-group", "0"}, maps...), 0},
		{"map groups with -r", append([]string{"-r", "--map-groups", "0:0:10"}, maps...), 0},
		{"map groups and setgroups allow", append([]string{"--map-group", "0", "--map-groups", "0:0:10", "--setgroups", "allow"}, maps...), 0},
		{"map groups then setgroups deny", append([]string{"--map-groups", "0:0:10", "--setgroups", "deny"}, maps...), 1},
		{"map current with users", append([]string{"-c", "--map-users", "0:0:5"}, maps...), 0},
		{"map users truncated", append([]string{"--map-users", "4294967296:0:1"}, maps...), 0},
		{"setgroups allow", append([]string{"-U", "--setgroups", "allow"}, maps...), 0},
		{"time offsets", []string{"-T", "--monotonic", "-5", "--boottime", "7", "cat", "/proc/self/timens_offsets"}, 0},
		{"time last offset wins", []string{"--monotonic", "5", "--monotonic", "6", "-T", "cat", "/proc/self/timens_offsets"}, 0},
		{"time offsets forked", []string{"-T", "-f", "--boottime", "3", "cat", "/proc/self/timens_offsets"}, 0},
		{"credentials", []string{"-S", "5", "-G", "6", "id"}, 0},
		{"credentials truncated", []string{"-S", "4294967297", "-G", " +010", "id"}, 0},
		{"keep caps", []string{"-r", "--keep-caps", "grep", "^Cap[IAP]", "/proc/self/status"}, 0},
		{"no keep caps", []string{"-r", "grep", "^Cap[IAP]", "/proc/self/status"}, 0},
		{"propagation default", []string{"-m", "findmnt", "-no", "PROPAGATION", "/"}, 0},
		{"propagation shared", []string{"-m", "--propagation", "shared", "findmnt", "-no", "PROPAGATION", "/"}, 0},
		{"propagation without -m", []string{"--propagation", "shared", "true"}, 0},
		{"wd", []string{"-w", "/usr", "sh", "-c", "pwd"}, 0},
		{"uts", []string{"-u", "sh", "-c", "hostname nsx-unshare-uts && hostname"}, 0},
		{"net", []string{"-n", "sh", "-c", "tail -n +3 /proc/net/dev | cut -d: -f1"}, 0},
		{"signal mask forked", []string{"-f", "grep", "^Sig[BI]", "/proc/self/status"}, 0},
		{"setgroups deny with -U", append([]string{"-U", "--setgroups", "deny"}, maps...), 0},
		{"keep caps without map", []string{"-U", "--keep-caps", "grep", "^Cap[IAP]", "/proc/self/status"}, 0},
		{"cgroup", []string{"-C", "cat", "/proc/self/cgroup"}, 0},
		{"ipc", []string{"-i", "cat", "/proc/sysvipc/shm"}, 0},
		{"time without offsets", []string{"-T", "cat", "/proc/self/timens_offsets"}, 0},
		{"help wins over later error", []string{"-h", "-x"}, 0},
		{"error before help", []string{"-x", "-h"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := u.same(t, unshareOpts{}, c.args...)
			if r.code != c.want {
				t.Errorf("exit status %d, want %d (%v)", r.code, c.want, r)
			}
		})
	}
	t.Run("subordinate ids", func(t *testing.T) {
		// Private copies of /etc/subuid and /etc/subgid in a mount
		// namespace of the test's own: the host's files are not touched,
		// and the result does not depend on which users the host has.
		hostUnshare := testutil.RequireTool(t, "unshare")
		withSubids := func(subuid, subgid, bin string, args ...string) unshareResult {
			dir := t.TempDir()
			for name, text := range map[string]string{"subuid": subuid, "subgid": subgid} {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			script := `mount --bind "$1/subuid" /etc/subuid && mount --bind "$1/subgid" /etc/subgid && shift && exec "$@"`
			r := unshareRun(t, hostUnshare, unshareOpts{}, append([]string{"-m", "sh", "-c", script, "sh", dir, bin}, args...)...)
			r.stderr = unshareNorm(r.stderr)
			return r
		}
		all := [][]string{{"--map-auto"}, {"--map-subids"}, {"--map-users", "auto"}, {"--map-groups", "subids"}}
		// With a line for root both map its range.
		for _, args := range all {
			args = append(args, maps...)
			ul := withSubids("root:100000:65536\n", "root:200000:65536\n", u.oracle, args...)
			nx := withSubids("root:100000:65536\n", "root:200000:65536\n", u.nsx, args...)
			if ul != nx || nx.code != 0 {
				t.Errorf("unshare %q with root's subids:\n  util-linux: %v\n  nsx:        %v", args, ul, nx)
			}
		}
		// With lines for other users only, nsx refuses as subuid(5)
		// says; 2.41.5 takes the first line whoever it names
		// (docs/compat.md).
		for _, args := range all {
			args = append(args, maps...)
			nx := withSubids("alice:300000:65536\n", "alice:400000:65536\n", u.nsx, args...)
			file := "/etc/subuid"
			if args[0] == "--map-groups" {
				file = "/etc/subgid"
			}
			if nx.code != 1 || nx.stderr != `unshare: no line matching user "root" in `+file+"\n" {
				t.Errorf("unshare %q with alice's subids only: %v", args, nx)
			}
		}
	})
	t.Run("root and proc", func(t *testing.T) {
		bb := testutil.RequireTool(t, "busybox")
		root := filepath.Join(u.dir, "root")
		for _, d := range []string{"bin", "proc", "w"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		data, err := os.ReadFile(bb)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(filepath.Join(root, "bin", "busybox"), "true").CombinedOutput(); err != nil {
			testutil.Require(t, false, fmt.Sprintf("a static busybox (busybox-static): %v %s", err, out))
		}
		for _, l := range []string{"sh", "ls", "pwd"} {
			os.Symlink("busybox", filepath.Join(root, "bin", l))
		}
		for _, c := range []struct {
			args []string
			want int
		}{
			{[]string{"-R", root, "/bin/sh", "-c", "pwd"}, 0},
			{[]string{"-R", root, "-w", "/w", "/bin/sh", "-c", "pwd"}, 0},
			{[]string{"-R", root, "-w", "w", "/bin/sh", "-c", "pwd"}, 1},
			{[]string{"-w", "/usr", "-R", root, "/bin/sh", "-c", "pwd"}, 1},
			{[]string{"-R", root, "-fp", "--mount-proc", "/bin/ls", "/proc/1/ns"}, 0},
			{[]string{"-R", root, "-fp", "--mount-proc", "/bin/sh", "-c", "echo $$; /bin/ls -d /proc/[0-9]*"}, 0},
			{[]string{"-R", root, "/nonexistent"}, 127},
		} {
			if r := u.same(t, unshareOpts{}, c.args...); r.code != c.want {
				t.Errorf("%q: exit status %d, want %d", c.args, r.code, c.want)
			}
		}
		os.Remove(filepath.Join(root, "proc"))
		if r := u.same(t, unshareOpts{}, "-R", root, "-fp", "--mount-proc", "/bin/ls", "/proc"); r.code != 1 {
			t.Errorf("--mount-proc without /proc in the root: %v", r)
		}
	})
	t.Run("unprivileged", func(t *testing.T) {
		setpriv := testutil.RequireTool(t, "setpriv")
		// The binaries must be reachable for nobody.
		dir, err := os.MkdirTemp("", "nsx-unshare-unpriv-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		data, err := os.ReadFile(u.nsxMain)
		if err != nil {
			t.Fatal(err)
		}
		nsx := filepath.Join(dir, "unshare")
		if err := os.WriteFile(nsx, data, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		drop := []string{"--reuid", "65534", "--regid", "65534", "--clear-groups"}
		for _, args := range [][]string{
			append([]string{"-r"}, maps...),
			append([]string{"-c"}, maps...),
			append([]string{"--map-user", "0"}, maps...),
			{"-r", "--map-users", "0:0:10", "true"},
			{"-n", "true"},
			{"-r", "-n", "-m", "-f", "-p", "--mount-proc", "sh", "-c", "id -u; echo $$"},
			{"-r", "--keep-caps", "grep", "^CapAmb", "/proc/self/status"},
		} {
			ul := unshareRun(t, setpriv, unshareOpts{}, append(append(append([]string{}, drop...), u.oracle), args...)...)
			nx := unshareRun(t, setpriv, unshareOpts{}, append(append(append([]string{}, drop...), nsx), args...)...)
			ul.stderr, nx.stderr = unshareNorm(ul.stderr), unshareNorm(nx.stderr)
			if ul != nx {
				t.Errorf("as nobody, unshare %q:\n  util-linux: %v\n  nsx:        %v", args, ul, nx)
			}
		}
	})
	t.Run("subordinate ids unprivileged", func(t *testing.T) {
		// nobody gets subordinate IDs in a private copy of /etc/subuid and
		// /etc/subgid (a mount namespace of the test's own: the host's
		// files are not touched), and both unshares map them through
		// newuidmap/newgidmap.
		testutil.RequireTool(t, "newuidmap")
		setpriv := testutil.RequireTool(t, "setpriv")
		hostUnshare := testutil.RequireTool(t, "unshare")
		dir, err := os.MkdirTemp("", "nsx-unshare-subid-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o755)
		data, err := os.ReadFile(u.nsxMain)
		if err != nil {
			t.Fatal(err)
		}
		nsx := filepath.Join(dir, "unshare")
		if err := os.WriteFile(nsx, data, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, line := range map[string]string{"subuid": "nobody:100000:65536\n", "subgid": "nobody:200000:65536\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		script := `mount --bind "$1/subuid" /etc/subuid && mount --bind "$1/subgid" /etc/subgid && shift && exec "$@"`
		run := func(bin string, args ...string) unshareResult {
			argv := append([]string{"-m", "sh", "-c", script, "sh", dir, setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", bin}, args...)
			r := unshareRun(t, hostUnshare, unshareOpts{}, argv...)
			r.stderr = unshareNorm(r.stderr)
			return r
		}
		for _, args := range [][]string{
			append([]string{"--map-auto"}, maps...),
			append([]string{"-r", "--map-auto"}, maps...),
			append([]string{"--map-subids"}, maps...),
			append([]string{"--map-users=auto", "--map-user=5"}, maps...),
			append([]string{"-c", "--map-groups", "auto"}, maps...),
			append([]string{"--map-users", "0:0:10"}, maps...), // not nobody's: newuidmap refuses
		} {
			ul, nx := run(u.oracle, args...), run(nsx, args...)
			if ul != nx {
				t.Errorf("as nobody with subids, unshare %q:\n  util-linux: %v\n  nsx:        %v", args, ul, nx)
			}
		}
		if r := run(nsx, append([]string{"--map-auto"}, maps...)...); strings.Join(strings.Fields(r.stdout), " ") != "0 100000 65536 0 200000 65536 allow" {
			t.Errorf("--map-auto as nobody: %v", r)
		}
	})
	t.Run("default shell", func(t *testing.T) {
		for _, env := range [][]string{{"SHELL=/bin/sh"}, {"SHELL=/bin/bash"}, {"SHELL="}} {
			r := u.same(t, unshareOpts{env: env, stdin: "echo $0\n"}, "-u")
			if env[0] == "SHELL=/bin/sh" && r.stdout != "-sh\n" {
				t.Errorf("default shell: %v, want -sh", r)
			}
		}
	})
}

// TestUnshareNewNamespaces checks that every namespace nsx creates differs
// from the caller's, as the kernel reports it.
func TestUnshareNewNamespaces(t *testing.T) {
	u := unshareSetup(t)
	kinds := []string{"mnt", "uts", "ipc", "net", "pid", "user", "cgroup", "time"}
	script := ""
	for _, k := range kinds {
		script += "readlink /proc/self/ns/" + k + ";"
	}
	for _, bin := range []string{u.oracle, u.nsx} {
		r := unshareRun(t, bin, unshareOpts{}, "-muinpUCT", "-f", "sh", "-c", script)
		lines := strings.Fields(r.stdout)
		if r.code != 0 || len(lines) != len(kinds) {
			t.Fatalf("%s: %v", bin, r)
		}
		for i, k := range kinds {
			own, err := os.Readlink("/proc/self/ns/" + k)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(lines[i], k+":[") || lines[i] == own {
				t.Errorf("%s: %s namespace %s, caller's %s: want a new one", bin, k, lines[i], own)
			}
		}
	}
	// -p without --fork: the program stays in the caller's PID namespace,
	// its children go to the new one.
	// (One child only: the first is the namespace's init, and once that
	// exits no other can be forked there.)
	r := unshareRun(t, u.nsx, unshareOpts{}, "-p", "sh", "-c", `readlink /proc/$$/ns/pid /proc/self/ns/pid`)
	f := strings.Fields(r.stdout)
	own, _ := os.Readlink("/proc/self/ns/pid")
	if len(f) != 2 || f[0] != own || f[1] == own {
		t.Errorf("-p without -f: %v; caller %s", r, own)
	}
}

// TestUnshareMapsFromProc reads the maps of the running program from the
// outside, through /proc/PID/uid_map, rather than trusting its output.
func TestUnshareMapsFromProc(t *testing.T) {
	u := unshareSetup(t)
	for _, bin := range []string{u.oracle, u.nsx} {
		ready := filepath.Join(u.dir, "ready-"+filepath.Base(filepath.Dir(bin)))
		cmd := exec.Command(bin, "--map-user", "7", "--map-users", "100:2000:50", "--map-group", "9",
			"sh", "-c", `echo $$ > "$1"; exec sleep 60`, "sh", ready)
		cmd.Args[0] = "unshare"
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := unshareWaitPid(t, ready)
		uidMap, _ := os.ReadFile(fmt.Sprintf("/proc/%d/uid_map", pid))
		gidMap, _ := os.ReadFile(fmt.Sprintf("/proc/%d/gid_map", pid))
		setgroups, _ := os.ReadFile(fmt.Sprintf("/proc/%d/setgroups", pid))
		cmd.Process.Kill()
		syscall.Kill(pid, syscall.SIGKILL)
		cmd.Wait()
		got := strings.Join(strings.Fields(string(uidMap)), " ") + " | " + strings.Join(strings.Fields(string(gidMap)), " ") + " | " + strings.TrimSpace(string(setgroups))
		if want := "7 0 1 100 2000 50 | 9 0 1 | deny"; got != want {
			t.Errorf("%s: maps %q, want %q", bin, got, want)
		}
	}
}

func unshareWaitPid(t *testing.T, file string) int {
	t.Helper()
	for i := 0; i < 600; i++ {
		if b, err := os.ReadFile(file); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never written", file)
	return 0
}

// TestUnsharePersistent binds namespaces to files with one implementation
// and enters them with the other.
func TestUnsharePersistent(t *testing.T) {
	u := unshareSetup(t)
	touch := func(name string) string {
		p := filepath.Join(u.dir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Unmount(p, unix.MNT_DETACH) })
		return p
	}
	inode := func(p string) string {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return strconv.FormatUint(st.Ino, 10)
	}

	// nsx unshare -> util-linux nsenter.
	uts := touch("uts-nsx")
	if r := unshareRun(t, u.nsx, unshareOpts{}, "--uts="+uts, "hostname", "nsx-unshare-persist"); r.code != 0 {
		t.Fatalf("nsx unshare --uts=FILE: %v", r)
	}
	if r := unshareRun(t, u.oracleNsenter, unshareOpts{}, "--uts="+uts, "hostname"); r.stdout != "nsx-unshare-persist\n" {
		t.Errorf("oracle nsenter into nsx's persistent uts: %v", r)
	}
	// A PID namespace needs --fork, and is bound once its init exists (it
	// cannot be entered once that init has ended).
	pid := touch("pid-nsx")
	if r := unshareRun(t, u.nsx, unshareOpts{}, "--pid="+pid, "-f", "readlink", "/proc/self/ns/pid"); r.code != 0 || r.stdout != "pid:["+inode(pid)+"]\n" {
		t.Errorf("nsx unshare --pid=FILE -f: %v; the file's inode is %s", r, inode(pid))
	}
	// Time offsets survive in a persistent time namespace.
	tm := touch("time-nsx")
	if r := unshareRun(t, u.nsx, unshareOpts{}, "--time="+tm, "--monotonic", "100", "true"); r.code != 0 {
		t.Fatalf("nsx unshare --time=FILE: %v", r)
	}
	if r := unshareRun(t, u.oracleNsenter, unshareOpts{}, "--time="+tm, "cat", "/proc/self/timens_offsets"); !strings.Contains(r.stdout, "monotonic         100") {
		t.Errorf("oracle nsenter into nsx's persistent time ns: %v", r)
	}

	// util-linux unshare -> nsx enter, by the file as target.
	net := touch("net-ul")
	if r := unshareRun(t, u.oracle, unshareOpts{}, "--net="+net, "true"); r.code != 0 {
		t.Fatalf("oracle unshare --net=FILE: %v", r)
	}
	r := unshareRun(t, u.nsxMain, unshareOpts{}, "enter", net, "--", "readlink", "/proc/self/ns/net")
	if r.stdout != "net:["+inode(net)+"]\n" {
		t.Errorf("nsx enter %s (inode %s): %v", net, inode(net), r)
	}

	// Both refuse a PID namespace without --fork: it has no init yet.
	pid2 := touch("pid-nofork")
	u.same(t, unshareOpts{}, "--pid="+pid2, "true")

	// A persistent user namespace: util-linux 2.41.5 fails to bind it
	// (EPERM, docs/compat.md); nsx binds it from the parent, and the
	// oracle's nsenter enters it and sees its map.
	usr := touch("user")
	if r := unshareRun(t, u.oracle, unshareOpts{}, "--user="+usr, "true"); r.code != 1 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Logf("util-linux now binds a user namespace: %v (update docs/compat.md)", r)
	}
	if r := unshareRun(t, u.nsx, unshareOpts{}, "--user="+usr, "-r", "true"); r.code != 0 {
		t.Fatalf("nsx unshare --user=FILE: %v", r)
	}
	if r := unshareRun(t, u.oracleNsenter, unshareOpts{}, "--user="+usr, "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(r.stdout), " ") != "0 0 1" {
		t.Errorf("oracle nsenter into nsx's persistent user ns: %v", r)
	}

	// Nothing half-done: a failing second bind undoes the first.
	ipc := touch("ipc-undo")
	r = unshareRun(t, u.nsx, unshareOpts{}, "--ipc="+ipc, "--net=/nonexistent-nsx-unshare/n", "true")
	if r.code != 1 || !strings.Contains(r.stderr, "on /nonexistent-nsx-unshare/n failed") {
		t.Errorf("failing bind: %v", r)
	}
	if unshareIsNsfs(ipc) {
		t.Errorf("%s is still a namespace file after the failed run", ipc)
	}

	// nsx unshare (not the util-linux name) creates a missing file.
	created := filepath.Join(u.dir, "net-created")
	t.Cleanup(func() { unix.Unmount(created, unix.MNT_DETACH) })
	if r := unshareRun(t, u.nsxMain, unshareOpts{}, "unshare", "--net="+created, "true"); r.code != 0 {
		t.Fatalf("nsx unshare --net=NEWFILE: %v", r)
	}
	if !unshareIsNsfs(created) {
		t.Errorf("%s: not a namespace file", created)
	}
	// nsx ls finds the namespace by its file, with no process in it.
	if r := unshareRun(t, u.nsxMain, unshareOpts{}, "ls", "-t", "net"); !strings.Contains(r.stdout, created) {
		t.Errorf("nsx ls -t net does not list %s: %v", created, r)
	}
}

// TestUnshareKillChild kills nsx and expects the program (PID 1 of a new
// PID namespace) to receive the --kill-child signal.
func TestUnshareKillChild(t *testing.T) {
	u := unshareSetup(t)
	ready := filepath.Join(u.dir, "kill-ready")
	cmd := exec.Command(u.nsx, "-fp", "--kill-child", "sh", "-c", `echo $PPID > "$1"; exec sleep 300`, "sh", ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// $PPID of PID 1 is 0; find the program as the grandchild instead.
	unshareWaitPid(t, ready)
	prog := unshareGrandchild(t, cmd.Process.Pid)
	pidfd, err := unix.PidfdOpen(prog, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	cmd.Process.Kill()
	cmd.Wait()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	// The program's death is the event waited for; the bound only keeps
	// a broken build from hanging the suite.
	if n, err := unix.Poll(fds, 60000); err != nil || n != 1 {
		syscall.Kill(prog, syscall.SIGKILL)
		t.Fatalf("program %d survived nsx's death (poll %d, %v)", prog, n, err)
	}
}

func unshareGrandchild(t *testing.T, pid int) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		if kids := testutil.Children(pid); len(kids) == 1 {
			if gk := testutil.Children(kids[0]); len(gk) == 1 {
				return gk[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no grandchild of %d", pid)
	return 0
}

func unshareIsNsfs(p string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(p, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}
