package testutil

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/procfs"
)

// Mountinfo returns /proc/PID/mountinfo.
func Mountinfo(t testing.TB, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// MountsChanged compares a process's mount table with an earlier copy and
// describes what changed, or returns "" when nothing did.
//
// A fixture's mount namespace is a copy of the host's, and the kernel
// detaches a copied mount when the host removes the directory it sits on
// (containerd does, for a finished pod's rootfs). So a mount that vanished
// while its mount point vanished too is the host's doing and not reported;
// a mount that appeared, changed, or vanished from a directory that is
// still there is.
func MountsChanged(t testing.TB, pid int, before string) string {
	t.Helper()
	after := Mountinfo(t, pid)
	was := map[string]bool{}
	for _, line := range strings.Split(before, "\n") {
		was[line] = true
	}
	var diff []string
	for _, line := range strings.Split(after, "\n") {
		if !was[line] {
			diff = append(diff, "+ "+line)
		}
		delete(was, line)
	}
	for line := range was {
		if line == "" {
			continue
		}
		m, err := procfs.ParseMountinfo(line)
		if err == nil && len(m) == 1 {
			if _, err := os.Lstat(fmt.Sprintf("/proc/%d/root%s", pid, m[0].MountPoint)); os.IsNotExist(err) {
				continue
			}
		}
		diff = append(diff, "- "+line)
	}
	return strings.Join(diff, "\n")
}
