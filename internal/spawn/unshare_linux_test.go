package spawn

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

// TestUnshareConfigureSeesChild checks the handshake: Configure runs while
// the child waits in its new namespaces (so it can read them from outside),
// and the program runs only afterwards.
func TestUnshareConfigureSeesChild(t *testing.T) {
	testutil.RequireRoot(t)
	own, err := os.Readlink("/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	s := spec("readlink", "/proc/self/ns/uts")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s.Stdio[1] = int(w.Fd()) // the program's stdout
	s.Unshare = &Unshare{Flags: unix.CLONE_NEWUTS, Configure: func(pid int) error {
		seen, err = os.Readlink(fmt.Sprintf("/proc/%d/ns/uts", pid))
		return err
	}}
	p, err := Start(s)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := p.Wait(false)
	p.Release()
	if err != nil || ws.ExitStatus() != 0 {
		t.Fatalf("program: %v %v", ws, err)
	}
	buf := make([]byte, 100)
	n, _ := r.Read(buf)
	got := strings.TrimSpace(string(buf[:n]))
	if seen == "" || seen == own || got != seen {
		t.Errorf("Configure saw %q, the program %q, the caller is in %q", seen, got, own)
	}
}

// TestUnshareConfigureFailure: a failing Configure stops the child before
// the program runs, and Start returns that error with the child reaped.
func TestUnshareConfigureFailure(t *testing.T) {
	testutil.RequireRoot(t)
	marker := t.TempDir() + "/ran"
	s := spec("sh", "-c", "touch "+marker)
	var child int
	want := errors.New("configure failed")
	s.Unshare = &Unshare{Flags: unix.CLONE_NEWNET, Configure: func(pid int) error {
		child = pid
		return want
	}}
	if _, err := Start(s); err != want {
		t.Fatalf("Start: %v, want %v", err, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran after Configure failed")
	}
	if err := syscall.Kill(child, 0); err != syscall.ESRCH {
		t.Errorf("child %d still exists (kill 0: %v)", child, err)
	}
}

// TestUnshareForkIsPID1: with Fork and a new PID namespace the program is
// PID 1, and a failing step after the fork is reported by stage.
func TestUnshareForkIsPID1(t *testing.T) {
	testutil.RequireRoot(t)
	s := spec("sh", "-c", `test $$ = 1`)
	s.Unshare = &Unshare{Flags: unix.CLONE_NEWPID, Fork: true}
	p, err := Start(s)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := p.Wait(false)
	p.Release()
	if err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("program not PID 1: %v %v", ws, err)
	}
	s = spec("true")
	s.Unshare = &Unshare{Flags: unix.CLONE_NEWPID | unix.CLONE_NEWNS, Fork: true, MountProc: "/nonexistent-nsx-unshare"}
	_, err = Start(s)
	var ce *ChildError
	if !errors.As(err, &ce) || ce.Stage != StageMountProc || ce.Errno != syscall.ENOENT {
		t.Fatalf("got %v, want a StageMountProc ENOENT failure", err)
	}
}
