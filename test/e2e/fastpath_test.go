package e2e

// The structure of nsx enter's fast path, as strace -f sees it: which kind
// of clone starts the program, whether the runtime's network poller woke up,
// how many setns and execve calls it took and how many system calls nsx made
// in all. These counts do not depend on the machine's load, so they catch a
// regression of the fast path that a timing could only hint at (the timings
// are in bench/, never in a test).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

// traced is one process or thread's strace -ff output, as system call
// names with their argument text and result.
type traced struct {
	tid   int
	calls []tracedCall
}

type tracedCall struct {
	name, args, result string
}

var straceLine = regexp.MustCompile(`^([a-z0-9_]+)\((.*)\)\s+=\s+(.*)$`)

// straceEnter runs nsx enter under strace -f -ff and returns nsx's processes
// and threads, each cut at the successful execve of the program: what the
// program itself does is not nsx's cost.
func straceEnter(t *testing.T, nsx string, args ...string) (main int, procs map[int]*traced) {
	t.Helper()
	strace := testutil.RequireTool(t, "strace")
	dir := t.TempDir()
	out := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, append([]string{"-f", "-ff", "-qq", "-o", out, nsx}, args...)...)
	// The program is looked up along PATH, one stat per entry: a fixed
	// PATH keeps the counts independent of the caller's.
	cmd.Env = append(os.Environ(), "PATH="+fastPath)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace nsx %v: %v\n%s", args, err, b)
	}
	main = cmd.Process.Pid // strace's pid; nsx's is its only direct child
	files, _ := filepath.Glob(out + ".*")
	procs = map[int]*traced{}
	lowest := 0
	for _, f := range files {
		tid, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(f), "."))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p := &traced{tid: tid}
		for _, line := range strings.Split(string(b), "\n") {
			m := straceLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			p.calls = append(p.calls, tracedCall{m[1], m[2], m[3]})
			if m[1] == "execve" && strings.HasPrefix(m[3], "0") && len(p.calls) > 1 {
				break // the program runs from here on
			}
		}
		procs[tid] = p
		if lowest == 0 || tid < lowest {
			lowest = tid
		}
	}
	if len(procs) == 0 {
		t.Fatalf("strace wrote no trace files under %s", dir)
	}
	// strace's child (nsx) is the first task it traced; with -ff its file
	// starts with the execve of nsx itself.
	for tid, p := range procs {
		if len(p.calls) > 0 && p.calls[0].name == "execve" && strings.Contains(p.calls[0].args, nsx) {
			main = tid
		}
	}
	return main, procs
}

// fastPath is the PATH nsx runs with under strace.
const fastPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// isThreadClone reports whether a clone or clone3 call's flags create a
// thread (CLONE_THREAD) rather than a process.
func isThreadClone(c tracedCall) bool {
	return strings.Contains(c.args, "CLONE_THREAD")
}

func isClone(c tracedCall) bool {
	switch c.name {
	case "clone", "clone3", "fork", "vfork":
		return true
	}
	return false
}

// runtimeNoise are system calls whose number depends on scheduling, not on
// what nsx does: the counts below leave them out.
var runtimeNoise = map[string]bool{
	"futex": true, "nanosleep": true, "sched_yield": true, "epoll_pwait": true,
	"restart_syscall": true, "rt_sigreturn": true, "getpid": true, "tgkill": true,
}

// TestEnterFastPathStructure pins the shape of nsx enter -t PID -a true for
// the common container: a target with its own mount, UTS, IPC, network, PID
// and cgroup namespaces that shares nsx's user and time namespaces.
func TestEnterFastPathStructure(t *testing.T) {
	testutil.RequireRoot(t)
	nsx := ctrNSX(t)
	tg := testutil.Start(t, []string{"--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--mount-proc"},
		`echo ready > "$READY" && exec sleep 1000`)
	main, procs := straceEnter(t, nsx, "enter", "-t", strconv.Itoa(tg.PID), "-a", "true")

	var processClones, threads, setns, total int
	var cloneArgs string
	execs := map[int]int{}
	for tid, p := range procs {
		for _, c := range p.calls {
			if !runtimeNoise[c.name] {
				total++
			}
			switch {
			case isClone(c) && isThreadClone(c):
				threads++
			case isClone(c):
				processClones++
				cloneArgs = c.args
			case c.name == "setns":
				setns++
			case c.name == "execve" && tid != main:
				execs[tid]++
			case c.name == "epoll_create1", c.name == "eventfd2", c.name == "epoll_ctl":
				t.Errorf("task %d called %s(%s): the network poller started on the enter path (an os.File on /proc?)", tid, c.name, c.args)
			}
		}
	}
	dump := func() string {
		var b strings.Builder
		for tid, p := range procs {
			fmt.Fprintf(&b, "task %d:\n", tid)
			for _, c := range p.calls {
				fmt.Fprintf(&b, "  %s(%.100s) = %s\n", c.name, c.args, c.result)
			}
		}
		return b.String()
	}
	// One process is created, by vfork (CLONE_VM|CLONE_VFORK): the child
	// shares nsx's memory, makes the joins and executes the program. A
	// full fork (no CLONE_VM) means the fast path was lost, for instance
	// by joining nsx's own time namespace.
	if processClones != 1 {
		t.Errorf("nsx created %d processes, want 1 (the program)\n%s", processClones, dump())
	} else if !strings.Contains(cloneArgs, "CLONE_VM") || !strings.Contains(cloneArgs, "CLONE_VFORK") {
		t.Errorf("the program's process was created by clone(%s), want CLONE_VM|CLONE_VFORK (the vfork fast path)", cloneArgs)
	} else if !strings.Contains(cloneArgs, "CLONE_CLEAR_SIGHAND") {
		t.Errorf("the program's process was created by clone(%s), want CLONE_CLEAR_SIGHAND (no rt_sigaction per signal in the child)", cloneArgs)
	}
	// On nsx's thread, around the vfork: the join of nsx's own PID
	// namespace that proves it can come back, the PID pre-join, the way
	// back; in the child one setns(pidfd, six kinds).
	if setns > 4 {
		t.Errorf("%d setns calls, want at most 4 (three for the PID pre-join, one pidfd join)\n%s", setns, dump())
	}
	// The child executes along PATH as execvp(3) does, up to the first
	// directory that has true.
	tries := 0
	for _, dir := range strings.Split(fastPath, ":") {
		tries++
		if _, err := os.Stat(filepath.Join(dir, "true")); err == nil {
			break
		}
	}
	for tid, n := range execs {
		if n != tries {
			t.Errorf("child %d called execve %d times, want %d (along %s)\n%s", tid, n, tries, fastPath, dump())
		}
	}
	// On Linux 6.18 with Go 1.26 most calls are the runtime's start-up
	// (rt_sigaction for every signal, mmap); the network poller alone
	// would add 8. Since 2026-12-02 the child shares nsx's memory and
	// makes the joins itself, and clone3 clears its signal handlers
	// (CLONE_CLEAR_SIGHAND) instead of its one rt_sigaction per signal:
	// 272-281 calls on 6-7 threads, idle or with three busy loops. The
	// locked thread that joined and called syscall.ForkExec before made it
	// 344-349 on 7 threads, and catching the signals on the main goroutine
	// (until 2026-12-02) 365-373 on 8-9: the bound on calls catches either,
	// the one on threads the latter, with a thread to spare for load.
	const maxThreads, maxCalls = 8, 290
	if threads > maxThreads {
		t.Errorf("nsx started %d threads, want at most %d", threads, maxThreads)
	}
	if total > maxCalls {
		t.Errorf("nsx made %d system calls (leaving out futex and sleeps), want at most %d\n%s", total, maxCalls, dump())
	}
	t.Logf("processes %d, threads %d, setns %d, system calls %d", processClones, threads, setns, total)
}

// TestEnterCopiedChildStructure pins the shape of the entry that needs a
// copied child: a target with a time namespace of its own, which only a
// single-threaded process (one that shares no memory) can join. nsx's main
// thread joins the target's PID namespace for the instant of the fork
// itself; handing that to a new thread cost a thread start and two
// wake-ups per entry (until 2026-12-02).
func TestEnterCopiedChildStructure(t *testing.T) {
	testutil.RequireRoot(t)
	nsx := ctrNSX(t)
	tg := testutil.Start(t, []string{"--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--time", "--monotonic", "100000", "--mount-proc"},
		`echo ready > "$READY" && exec sleep 1000`)
	main, procs := straceEnter(t, nsx, "enter", "-t", strconv.Itoa(tg.PID), "-a", "true")
	var forks []string
	for tid, p := range procs {
		for _, c := range p.calls {
			if isClone(c) && !isThreadClone(c) {
				forks = append(forks, fmt.Sprintf("task %d (nsx's main thread is %d): %s(%.160s)", tid, main, c.name, c.args))
				if tid != main {
					t.Errorf("the program's process was made by task %d, not by nsx's main thread %d: the fork was handed to a thread", tid, main)
				}
				if strings.Contains(c.args, "CLONE_VM") {
					t.Errorf("the program's process was created by %s(%s): a child sharing nsx's memory cannot join a time namespace", c.name, c.args)
				}
			}
		}
	}
	if len(forks) != 1 {
		t.Errorf("nsx created %d processes, want 1 (the program): %q", len(forks), forks)
	}
	t.Logf("%q", forks)
}

// TestEnterSkipsOwnTimeNamespace checks that -a leaves nsx's own time
// namespace out, and still joins a time namespace of the target's own.
func TestEnterSkipsOwnTimeNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	nsx := ctrNSX(t)
	shared := testutil.Start(t, []string{"--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--mount-proc"},
		`echo ready > "$READY" && exec sleep 1000`)
	own := testutil.Start(t, []string{"--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--time", "--monotonic", "100000", "--mount-proc"},
		`echo ready > "$READY" && exec sleep 1000`)
	self, err := os.Readlink("/proc/self/ns/time")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tg   *testutil.Target
		want string
	}{{shared, self}, {own, own.NS(t, "time")}} {
		out, err := exec.Command(nsx, "enter", "-t", strconv.Itoa(tc.tg.PID), "-a", "readlink", "/proc/self/ns/time").CombinedOutput()
		if err != nil {
			t.Fatalf("nsx enter: %v\n%s", err, out)
		}
		if got := strings.TrimSpace(string(out)); got != tc.want {
			t.Errorf("target %d: the program's time namespace is %s, want %s", tc.tg.PID, got, tc.want)
		}
	}
	out, err := exec.Command(nsx, "enter", "--explain", "-t", strconv.Itoa(shared.PID)).CombinedOutput()
	if err != nil {
		t.Fatalf("nsx enter --explain: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "is nsx's own: joining it would change nothing") {
		t.Errorf("--explain does not say why the time namespace is skipped:\n%s", out)
	}
}

// TestEnterDockerCacheRecreated enters a container by name twice (the second
// time from nsx's cache), recreates it under the same name and enters it
// again: the program must run in the new container, never the old one.
func TestEnterDockerCacheRecreated(t *testing.T) {
	enginetest.Require(t, "docker")
	nsx := ctrNSX(t)
	name := enginetest.Name("nsx-e2e-speed-cache")
	enter := func(want string) {
		t.Helper()
		r := ctrRun(t, nsx, "enter", "docker:"+name, "--", "hostname")
		if r.code != 0 || strings.TrimSpace(r.stdout) != want {
			t.Fatalf("nsx enter docker:%s -- hostname: exit %d, %q %q; want the container with hostname %s", name, r.code, r.stdout, r.stderr, want)
		}
	}
	explain := func() string {
		t.Helper()
		r := ctrRun(t, nsx, "enter", "--explain", "docker:"+name)
		if r.code != 0 {
			t.Fatalf("--explain: exit %d, %q", r.code, r.stderr)
		}
		return strings.SplitN(r.stdout, "\n", 2)[0]
	}
	t.Cleanup(func() { os.Remove("/run/nsx/cache/docker/" + name) })
	a := enginetest.RunDocker(t, name)
	enter(a[:12])
	enter(a[:12])
	if got := explain(); !strings.Contains(got, "found by nsx's cache") {
		t.Errorf("a repeated lookup did not use the cache: %s", got)
	}
	// A cached lookup talks to no daemon and wakes no network poller.
	_, procs := straceEnter(t, nsx, "enter", "docker:"+name, "--", "true")
	for tid, p := range procs {
		for _, c := range p.calls {
			switch c.name {
			case "connect", "socket", "epoll_create1", "eventfd2":
				t.Errorf("task %d called %s(%s) on a cached docker:NAME lookup", tid, c.name, c.args)
			}
		}
	}
	enginetest.Run(t, "docker", "rm", "-f", name)
	b := enginetest.RunDocker(t, name)
	enter(b[:12])
	enter(b[:12])
}

// Every nsx command runs the package init of everything linked into the
// binary. The libraries only container lookups, inspect and ls -Q once
// needed (net, net/netip, regexp, x/net's hpack) cost every start time and
// page faults, and are gone; listing has no init left. The
// runtime's init trace names each package init it runs, so a dependency
// that comes back shows here.
func TestEnterStartUpRunsNoNetworkOrRegexpInit(t *testing.T) {
	// A build of its own: it needs no container, and runs unprivileged,
	// where ctrNSX's shared directory may be root's.
	nsx := filepath.Join(t.TempDir(), "nsx")
	if err := buildNSXAt(nsx); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nsx, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nsx version: %v\n%s", err, out)
	}
	inits := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			inits[f[1]] = true
		}
	}
	if !inits["runtime"] || !inits["github.com/nsxproject/nsx/internal/cli"] {
		t.Fatalf("no init trace from nsx version:\n%s", out)
	}
	for _, pkg := range []string{
		"net", "net/netip", "vendor/golang.org/x/net/dns/dnsmessage", "unique",
		"regexp", "regexp/syntax", "golang.org/x/net/http2/hpack",
		"github.com/nsxproject/nsx/listing",
	} {
		if inits[pkg] {
			t.Errorf("nsx start-up runs the init of %s", pkg)
		}
	}
}
