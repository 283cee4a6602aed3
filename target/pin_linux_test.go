package target

import (
	"os/exec"
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
