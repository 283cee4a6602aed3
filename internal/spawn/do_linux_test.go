package spawn

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
	"golang.org/x/sys/unix"
)

// threadNetNS is the net namespace inode of the calling thread.
func threadNetNS(t *testing.T) uint64 {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// newNetNS makes a net namespace on a thread that then dies, and returns an
// fd of it and its inode.
func newNetNS(t *testing.T) (int, uint64) {
	t.Helper()
	type res struct {
		fd  int
		ino uint64
		err error
	}
	c := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with us
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			c <- res{err: err}
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		var st unix.Stat_t
		if err == nil {
			err = unix.Fstat(fd, &st)
		}
		c <- res{fd, st.Ino, err}
	}()
	r := <-c
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { unix.Close(r.fd) })
	return r.fd, r.ino
}

// TestDoJoinsOnlyFnsThread: fn sees the joined net namespace, the caller's
// thread and a thread started afterwards do not.
func TestDoJoinsOnlyFnsThread(t *testing.T) {
	testutil.RequireRoot(t)
	fd, ino := newNetNS(t)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	own := threadNetNS(t)
	if own == ino {
		t.Fatal("the new namespace is the test's own")
	}
	s := spec("unused")
	s.Tolerant = []Join{{Fd: fd, Mask: unix.CLONE_NEWNET}}
	var inFn uint64
	err := Do(s, func() error {
		inFn = threadNetNS(t)
		return errors.New("fn's error")
	})
	if err == nil || err.Error() != "fn's error" {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	if inFn != ino {
		t.Errorf("fn ran in net namespace %d, want the joined %d", inFn, ino)
	}
	if got := threadNetNS(t); got != own {
		t.Errorf("caller's thread moved to %d", got)
	}
	// A thread the runtime starts now must not be the one Do used.
	c := make(chan uint64)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c <- threadNetNS(t)
	}()
	if got := <-c; got == ino {
		t.Error("another goroutine's thread is in the joined namespace")
	}
}

// TestDoReportsJoinLikeStart: a failing join is Start's ChildError, and fn
// does not run.
func TestDoReportsJoinLikeStart(t *testing.T) {
	r, _ := pipe(t)
	s := spec("unused")
	s.Tolerant = []Join{{Fd: int(r.Fd()), Mask: unix.CLONE_NEWNET}}
	ran := false
	err := Do(s, func() error { ran = true; return nil })
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Stage != StageJoin || ce.Index != 0 || ce.Errno != syscall.EINVAL {
		t.Fatalf("Do: %v, want a StageJoin EINVAL failure of join 0", err)
	}
	if ran {
		t.Error("fn ran after a failed join")
	}
	// Start's children, the one sharing nsx's memory and the copy (for a
	// relay): other executors than Do's thread, which must word the same
	// failure the same way.
	for _, copied := range []bool{false, true} {
		s.ForkForPID = copied
		if sharesMemory(s) == copied {
			t.Fatalf("copy %v: the spec takes the other child", copied)
		}
		_, startErr := Start(s)
		var sce *ChildError
		if !errors.As(startErr, &sce) || *sce != *ce {
			t.Errorf("copy %v: Start reports %v, Do %v", copied, startErr, err)
		}
	}
}

// TestDoRefusesWhatNeedsAProcess: user and time namespaces, credentials.
func TestDoRefusesWhatNeedsAProcess(t *testing.T) {
	user := spec("unused")
	user.User = &Join{Fd: 0, Mask: unix.CLONE_NEWUSER}
	timens := spec("unused")
	timens.Tolerant = []Join{{Fd: 0, Mask: unix.CLONE_NEWTIME}}
	creds := spec("unused")
	creds.UID = os.Getuid()
	for name, s := range map[string]*Spec{"user": user, "time": timens, "uid": creds} {
		ran := false
		err := Do(s, func() error { ran = true; return nil })
		if !errors.Is(err, ErrNeedsProcess) || ran {
			t.Errorf("%s: Do returned %v (fn ran: %v), want ErrNeedsProcess", name, err, ran)
		}
	}
}

// offMainProbe is set in the test binary run by
// runProbe runs this test binary as the probe that probeEnv selects in
// TestMain, through sh when prefix (shell commands run first, such as a
// trap that leaves a signal ignored) is not empty, and returns its output.
func runProbe(t *testing.T, probeEnv, prefix string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", prefix+`exec "$0" -test.run='^$'`, os.Args[0])
	cmd.Env = append(os.Environ(), probeEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("probe: %v\n%s", err, out)
	}
	return string(out)
}

// TestOffMainNeverRunsOnTheMainThread.
const offMainProbe = "NSX_TEST_OFF_MAIN_PROBE"

// TestMain, in the probe, calls goOffMain from the main goroutine on the
// main thread (m0), where a plain goroutine would land, and prints the
// process's pid and the thread fn ran on.
func TestMain(m *testing.M) {
	if os.Getenv(noClone3Probe) != "" {
		noClone3Main()
	}
	if os.Getenv(catchProbe) != "" {
		catchMain()
	}
	if os.Getenv(offMainProbe) == "" {
		os.Exit(m.Run())
	}
	c := make(chan int, 1)
	goOffMain(func() { c <- unix.Gettid() })
	fmt.Println(unix.Getpid(), unix.Gettid(), <-c)
	os.Exit(0)
}

// TestOffMainNeverRunsOnTheMainThread: called from the main goroutine on
// m0 (the probe), goOffMain still runs fn on another thread, and m0 is not
// lost to it.
func TestOffMainNeverRunsOnTheMainThread(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), offMainProbe+"=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	var pid, caller, fn int
	if _, err := fmt.Sscan(string(out), &pid, &caller, &fn); err != nil {
		t.Fatalf("probe: %q", out)
	}
	if caller != pid {
		t.Fatalf("the probe's main goroutine ran on thread %d, not m0 (%d): the test proves nothing", caller, pid)
	}
	if fn == pid {
		t.Error("fn ran on the main thread")
	}
}

// TestDoEndsTheThreadFnUnlocked: an fn that unlocks its thread as often as
// it was locked still leaves the joined thread to die with Do's goroutine
// instead of going back to the scheduler.
func TestDoEndsTheThreadFnUnlocked(t *testing.T) {
	var tid int
	err := Do(spec("unused"), func() error {
		tid = unix.Gettid()
		runtime.UnlockOSThread()
		runtime.UnlockOSThread()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	task := fmt.Sprintf("/proc/self/task/%d", tid)
	for i := 0; ; i++ {
		if _, err := os.Stat(task); os.IsNotExist(err) {
			return
		}
		if i == 500 {
			t.Fatalf("thread %d lives on after Do: it went back to the scheduler", tid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
