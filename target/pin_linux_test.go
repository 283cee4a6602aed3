package target

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPinPIDChecksInode covers -t PID:INODE: the inode names one process
// for good (pidfs), so a PID with another process's inode, as after a
// reuse, must be refused with util-linux's words, and the right one pinned.
func TestPinPIDChecksInode(t *testing.T) {
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open: %v", err)
	}
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	unix.Close(fd)
	if err != nil {
		t.Fatal(err)
	}

	p, err := PinPID(pid, st.Ino)
	if err != nil {
		t.Fatalf("PinPID(%d, its own inode %d): %v", pid, st.Ino, err)
	}
	p.Close()

	p, err = PinPID(pid, st.Ino+1)
	want := "failed to obtain a valid file descriptor for PID"
	if err == nil {
		p.Close()
		t.Fatalf("PinPID(%d, inode %d) pinned a process whose inode is %d", pid, st.Ino+1, st.Ino)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("wrong inode: %v, want %q", err, want)
	}
}

// TestPinnedHandle: two pins of one process are Equal, a pin of another
// process is not, and String gives the reference back.
func TestPinnedHandle(t *testing.T) {
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	a, b := start(), start()
	pin := func(pid int) *Pinned {
		p, err := PinPID(pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	a1, a2, b1 := pin(a.Process.Pid), pin(a.Process.Pid), pin(b.Process.Pid)
	if !a1.Equal(a2) || !a2.Equal(a1) {
		t.Error("two pins of one process are not Equal")
	}
	if a1.Equal(b1) || a1.Equal(nil) {
		t.Error("pins of different processes are Equal")
	}
	if a1.PID() != a.Process.Pid || a1.String() != strconv.Itoa(a.Process.Pid) {
		t.Errorf("PID %d, String %q; want %d", a1.PID(), a1.String(), a.Process.Pid)
	}
	if a1.Pidfd() < 0 || a1.ProcDir() < 0 || a1.StartTime() == 0 {
		t.Errorf("pidfd %d, /proc dir %d, start time %d", a1.Pidfd(), a1.ProcDir(), a1.StartTime())
	}
	if _, _, ok := a1.NamespaceFile(); ok {
		t.Error("a process is a namespace file")
	}

	n1, err := Resolve(context.Background(), "/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer n1.Close()
	n2, err := Resolve(context.Background(), "/proc/"+strconv.Itoa(os.Getpid())+"/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	u, err := Resolve(context.Background(), "/proc/self/ns/uts")
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	if !n1.Equal(n2) || n1.Equal(u) || n1.Equal(a1) {
		t.Error("namespace files: Equal does not compare the namespaces")
	}
	if _, kind, ok := n1.NamespaceFile(); !ok || kind.String() != "net" || n1.PID() != 0 || n1.Pidfd() != -1 {
		t.Errorf("namespace file: kind %v ok %v PID %d pidfd %d", kind, ok, n1.PID(), n1.Pidfd())
	}
}
