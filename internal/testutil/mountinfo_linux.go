package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
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
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		if _, err := os.Lstat(fmt.Sprintf("/proc/%d/root%s", pid, unescapeMountinfo(f[4]))); os.IsNotExist(err) {
			continue
		}
		diff = append(diff, "- "+line)
	}
	return strings.Join(diff, "\n")
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for a space)
// in a mountinfo path.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
