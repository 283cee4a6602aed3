package spawn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
	"golang.org/x/sys/unix"
)

func spec(path string, args ...string) *Spec {
	return &Spec{PrejoinPID: -1, RootFd: -1, CwdFd: -1, CgroupFd: -1, GID: -1, UID: -1,
		Stdio: [3]int{-1, -1, -1}, Path: path, Argv: append([]string{path}, args...), Env: os.Environ()}
}

// TestForkHooksPresent is the canary for the runtime hooks fork relies on:
// if they vanish the package fails to link, and if they stop working the
// raw child cannot run a program and report its status, or the program
// inherits the signal state of the runtime's fork window (runtime_BeforeFork
// blocks every signal; the child must restore the mask, and the handlers
// must be the dispositions an os/exec child starts with). The program's
// SigBlk and SigIgn must be an os/exec child's, from the child sharing
// nsx's memory (vfork) and from the copied one through its relay, each with
// clone3's CLONE_CLEAR_SIGHAND and the child's own mask restore, and with
// runtimeAfterForkInChild as on a kernel without the flag (leaving that
// call out, the program starts with every signal blocked).
func TestForkHooksPresent(t *testing.T) {
	want, err := exec.Command("grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status").Output()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { useForkHook = false }()
	for _, hook := range []bool{false, true} {
		useForkHook = hook
		for _, relay := range []bool{false, true} {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			// grep itself, not a shell: dash clears its signal mask.
			s := spec("grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status")
			s.ForkForPID = relay
			s.Stdio[1] = int(w.Fd())
			if sharesMemory(s) == relay {
				t.Fatalf("relay %v: the canary's spec takes the other child", relay)
			}
			p, err := Start(s)
			w.Close()
			if err != nil {
				r.Close()
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			ws, err := p.Wait(false)
			p.Release()
			if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
				t.Fatalf("hook %v, relay %v: child: %v, %v; want exit 0", hook, relay, ws, err)
			}
			if string(got) != string(want) {
				t.Errorf("hook %v, relay %v: the program's signal state\n%s; an os/exec child's\n%s", hook, relay, got, want)
			}
		}
	}
}

// TestStepTableChoosesExecutor: the child sharing nsx's memory takes exactly
// the specs it can carry out; what needs a process of its own memory (a
// user or time namespace) or the relay goes to the copied child; ExecInPlace
// and Do refuse what they cannot do.
func TestStepTableChoosesExecutor(t *testing.T) {
	for _, tc := range []struct {
		name            string
		edit            func(*Spec)
		shared, inPlace bool
		do              bool
	}{
		{"plain", func(*Spec) {}, true, true, true},
		{"net join", func(s *Spec) { s.Tolerant = []Join{{Fd: 9, Mask: syscall.CLONE_NEWNET}} }, true, true, true},
		{"time join", func(s *Spec) { s.Tolerant = []Join{{Fd: 9, Mask: 0x80}} }, false, false, false},
		{"user join", func(s *Spec) { s.User = &Join{Fd: 9, Mask: syscall.CLONE_NEWUSER} }, false, false, false},
		{"pid prejoin", func(s *Spec) { s.PrejoinPID = 9 }, true, true, true},
		{"read-only", func(s *Spec) { s.ReadOnly = true }, true, true, true},
		{"root", func(s *Spec) { s.RootFd = 9 }, true, true, true},
		{"extra files", func(s *Spec) { s.ExtraFiles = []int{9} }, true, false, true},
		{"stdio", func(s *Spec) { s.Stdio[0] = 9 }, true, true, true},
		{"uid", func(s *Spec) { s.UID = 0 }, true, true, false},
		{"setgroups", func(s *Spec) { s.SetGroups = true }, true, true, false},
		{"early groups", func(s *Spec) { s.DropGroupsEarly = true }, true, true, false},
		{"keep caps", func(s *Spec) { s.KeepCaps = true }, true, true, false},
		{"cgroup", func(s *Spec) { s.CgroupFd = 9 }, false, false, false},
		{"relay", func(s *Spec) { s.ForkForPID = true }, false, false, true},
		{"unshare", func(s *Spec) { s.Unshare = &Unshare{} }, false, false, false},
		{"debug", func(s *Spec) { s.Debug = &DebugRoot{} }, false, false, false},
	} {
		s := spec("true")
		tc.edit(s)
		if got := sharesMemory(s); got != tc.shared {
			t.Errorf("%s: shared memory %v, want %v", tc.name, got, tc.shared)
		}
		if got := refuseInPlace(s) == nil; got != tc.inPlace {
			t.Errorf("%s: in place %v, want %v", tc.name, got, tc.inPlace)
		}
		if got := checkDo(s) == nil; got != tc.do {
			t.Errorf("%s: Do %v, want %v", tc.name, got, tc.do)
		}
	}
}

func TestChildReportsFailingStage(t *testing.T) {
	s := spec("true")
	s.WdnsPath = "/nonexistent-nsx-dir"
	_, err := Start(s)
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Stage != StageWdns || ce.Errno != syscall.ENOENT {
		t.Fatalf("got %v, want a StageWdns ENOENT failure", err)
	}
	s = spec("/nonexistent-nsx-program")
	_, err = Start(s)
	if !errors.As(err, &ce) || ce.Stage != StageExec || ce.Errno != syscall.ENOENT {
		t.Fatalf("got %v, want a StageExec ENOENT failure", err)
	}
}

func TestCandidatesFollowExecvp(t *testing.T) {
	got := Candidates("ls", []string{"A=1", "PATH=/a::/b"})
	if want := []string{"/a/ls", "ls", "/b/ls"}; !reflect.DeepEqual(got, want) {
		t.Errorf("PATH with an empty entry: %q, want %q", got, want)
	}
	if got := Candidates("ls", nil); !reflect.DeepEqual(got, []string{"/bin/ls", "/usr/bin/ls"}) {
		t.Errorf("no PATH: %q, want glibc's default", got)
	}
	if got := Candidates("./x", []string{"PATH=/a"}); !reflect.DeepEqual(got, []string{"./x"}) {
		t.Errorf("a path with '/': %q", got)
	}
}

// TestRelayingChildMirrorsTheProgram covers the middle process the raw child
// becomes when the program must run one fork further down (a PID namespace
// joined only after a user namespace): it ends as the program ended.
func TestRelayingChildMirrorsTheProgram(t *testing.T) {
	for _, tc := range []struct {
		script string
		exited bool
		code   int
		sig    syscall.Signal
	}{
		{"exit 7", true, 7, 0},
		{"kill -USR1 $$", false, 0, syscall.SIGUSR1},
	} {
		s := spec("sh", "-c", tc.script)
		s.ForkForPID = true
		p, err := Start(s)
		if err != nil {
			t.Fatal(err)
		}
		ws, err := p.Wait(false)
		if err != nil {
			t.Fatal(err)
		}
		if tc.exited && (!ws.Exited() || ws.ExitStatus() != tc.code) || !tc.exited && (!ws.Signaled() || ws.Signal() != tc.sig) {
			t.Errorf("%q: status %v, want exit %d / signal %v", tc.script, ws, tc.code, tc.sig)
		}
	}
}

// TestRelayingChildForwardsSignals sends TERM to the middle process (as a
// user would who sees only nsx's child): it must reach the program, whose
// trap decides the status, instead of killing the relay and orphaning the
// program.
func TestRelayingChildForwardsSignals(t *testing.T) {
	// The sleep is started before the trap is set: started after, its
	// shell could take the trap's kill between fork and exec with the trap
	// it inherited and lose it, and the sleep outlived the test by 30 s
	// holding its stderr (under load, about one run in four).
	p, r := startRelayed(t, `sleep 30 & trap 'kill $!; exit 5' TERM; echo ready; wait`)
	buf := make([]byte, 6)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "ready\n" {
		p.Signal(syscall.SIGKILL)
		t.Fatalf("program did not start: %q, %v", buf, err)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws, err := p.Wait(false)
	if err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 5 {
		t.Fatalf("relay ended with %v; want exit 5 from the program's trap", ws)
	}
}

// TestRelayDeathKillsTheProgram kills the relaying process with SIGKILL, as
// CommandContext's default Cancel does: the program below it must not live
// on, orphaned.
func TestRelayDeathKillsTheProgram(t *testing.T) {
	p, r := startRelayed(t, `echo $$; exec sleep 30`)
	line, err := bufio.NewReader(r).ReadString('\n')
	prog, _ := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || prog <= 0 {
		p.Signal(syscall.SIGKILL)
		t.Fatalf("program did not start: %q, %v", line, err)
	}
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if ws, err := p.Wait(false); err != nil || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("relay: %v %v, want killed by SIGKILL", ws, err)
	}
	// The orphan is reparented and reaped by init: poll until it is gone
	// (or a zombie), which the kernel does at once when the relay dies.
	for i := 0; ; i++ {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", prog))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if i == 1000 {
			syscall.Kill(prog, syscall.SIGKILL)
			t.Fatalf("program %d lives on after its relay was killed: %s", prog, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStartGateHoldsTheProcessBack: with a StartGate, Start prepares but
// creates no process until the gate opens, from the child sharing nsx's
// memory and from the copied one.
func TestStartGateHoldsTheProcessBack(t *testing.T) {
	for _, raw := range []bool{false, true} {
		gate := make(chan struct{})
		s := spec("true")
		s.ForkForPID = raw // the copied child; a plain spec shares memory
		if got := !sharesMemory(s); got != raw {
			t.Fatalf("raw %v: the spec takes the other path", raw)
		}
		s.StartGate = gate
		started := make(chan *Process, 1)
		go func() {
			p, err := Start(s)
			if err != nil {
				t.Error(err)
			}
			started <- p
		}()
		// While the gate is shut, no process of ours appears, however long
		// we look (here: 50 looks at every thread's children).
		for i := 0; i < 50; i++ {
			if kids := testutil.Children(os.Getpid()); len(kids) > 0 {
				close(gate)
				t.Fatalf("raw %v: children %v created before the gate opened", raw, kids)
			}
			select {
			case <-started:
				t.Fatalf("raw %v: Start returned before the gate opened", raw)
			case <-time.After(time.Millisecond):
			}
		}
		close(gate)
		p := <-started
		if p == nil {
			continue
		}
		if ws, err := p.Wait(false); err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
			t.Errorf("raw %v: after the gate: %v %v", raw, ws, err)
		}
		p.Release()
	}
}

// startRelayed starts sh -c script below a relaying process that forwards
// signals, its stdout a pipe whose read end it returns; both are released
// when the test ends.
func startRelayed(t *testing.T, script string) (*Process, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	s := spec("sh", "-c", script)
	s.ForkForPID = true
	s.ForwardSignals = true
	s.Stdio[1] = int(w.Fd())
	p, err := Start(s)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Release)
	return p, r
}

// TestNoDumpComesBack: the child sharing this process's memory makes that
// memory non-dumpable until it executes, and Start makes it dumpable again
// afterwards, whether the program ran or failed to execute: a process left
// non-dumpable has its /proc files owned by root and cannot be debugged.
func TestNoDumpComesBack(t *testing.T) {
	for _, path := range []string{"true", "/nonexistent-nsx-program"} {
		s := spec(path)
		s.NoDump = true
		if !sharesMemory(s) {
			t.Fatal("the spec takes the copied child")
		}
		p, err := Start(s)
		if err == nil {
			p.Wait(false)
			p.Release()
		}
		if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 1 {
			t.Errorf("%s: dumpable %d (%v) after Start, want 1", path, d, err)
		}
	}
}

// TestPrejoinComesBack: the child sharing this process's memory is born in
// the PID namespace its parent thread joined for the clone, and that thread
// is back in nsx's own right after, its later children born there again.
func TestPrejoinComesBack(t *testing.T) {
	tg := testutil.Start(t, []string{"--pid", "--mount-proc"}, `echo ready > "$READY" && exec sleep 1000`)
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", tg.PID), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", tg.PID))
	if err != nil {
		t.Fatal(err)
	}
	r, w := pipe(t)
	s := spec("readlink", "/proc/self/ns/pid")
	s.PrejoinPID, s.PIDMask = fd, unix.CLONE_NEWPID
	s.Stdio[1] = int(w.Fd())
	if !sharesMemory(s) {
		t.Fatal("the spec takes the copied child")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := sharedStarts.Load()
	p, err := Start(s)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sharedStarts.Load() != before+1 {
		t.Error("the program was not started by the child sharing nsx's memory")
	}
	out, _ := io.ReadAll(r)
	p.Wait(false)
	p.Release()
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("the program's PID namespace is %s, want the target's %s", got, want)
	}
	own, _ := os.Readlink("/proc/self/ns/pid")
	if got, _ := os.Readlink("/proc/thread-self/ns/pid_for_children"); got != own {
		t.Errorf("after Start this thread's children are born in %s, want nsx's own %s", got, own)
	}
}

// TestCredentialsKeepNsxDumpable: a change of credentials in the child
// sharing nsx's memory resets that memory's dumpability (the kernel's
// commit_creds, to fs.suid_dumpable, 0 by default); Start puts it back
// even when NoDump was not asked for.
func TestCredentialsKeepNsxDumpable(t *testing.T) {
	testutil.RequireRoot(t)
	s := spec("true")
	s.UID, s.GID = 65534, 65534
	if !sharesMemory(s) {
		t.Fatal("the spec takes the copied child")
	}
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	p.Wait(false)
	p.Release()
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 1 {
		t.Errorf("dumpable %d (%v) after a child changed its credentials, want 1", d, err)
	}
}
