// Package testutil starts real targets for tests: processes in new
// namespaces of every kind, made with util-linux unshare (an oracle and
// fixture builder that tests may use; the product never does).
package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// InCI reports whether the tests run in CI, where a missing prerequisite
// must fail rather than skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Require fails (in CI) or skips the test when cond is false.
func Require(t testing.TB, cond bool, what string) {
	t.Helper()
	if cond {
		return
	}
	if InCI() {
		t.Fatalf("prerequisite missing: %s", what)
	}
	t.Skipf("prerequisite missing: %s", what)
}

// RequireRoot needs uid 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	Require(t, os.Geteuid() == 0, "root")
}

// RequireTool needs a program in PATH.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	Require(t, err == nil, name+" in PATH")
	return p
}

// Target is a running fixture process.
type Target struct {
	PID int
	cmd *exec.Cmd
}

// Start runs `unshare <flags> --fork <program...>` and returns the process
// inside (unshare's child), stopped and reaped at the end of the test. The
// program should end by exec'ing something long-running, after writing
// "ready" to the file named by $READY when it has set itself up.
func Start(t testing.TB, unshareFlags []string, script string) *Target {
	t.Helper()
	RequireRoot(t)
	RequireTool(t, "unshare")
	ready, err := os.CreateTemp("", "nsx-ready-")
	if err != nil {
		t.Fatal(err)
	}
	ready.Close()
	t.Cleanup(func() { os.Remove(ready.Name()) })
	args := append(append([]string{}, unshareFlags...), "--fork", "sh", "-c", script)
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(), "READY="+ready.Name())
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tg := &Target{cmd: cmd}
	t.Cleanup(tg.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(ready.Name()); strings.TrimSpace(string(b)) == "ready" {
			if pid := childOf(cmd.Process.Pid); pid > 0 {
				tg.PID = pid
				return tg
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("fixture unshare %v did not become ready", unshareFlags)
	return nil
}

// Stop kills the fixture's process group and reaps unshare.
func (tg *Target) Stop() {
	if tg.cmd.Process != nil {
		syscall.Kill(-tg.cmd.Process.Pid, syscall.SIGKILL)
		tg.cmd.Wait()
	}
}

// NS returns the fixture's namespace link of a kind ("net:[4026…]").
func (tg *Target) NS(t testing.TB, kind string) string {
	t.Helper()
	s, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", tg.PID, kind))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// childOf returns a child of pid, or 0.
func childOf(pid int) int {
	if kids := Children(pid); len(kids) > 0 {
		return kids[0]
	}
	return 0
}

// Children lists the children of pid, in ascending order, from every one
// of its threads' lists: the kernel lists a child under the thread that
// forked it, which need not be the main thread.
func Children(pid int) []int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var kids []int
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				kids = append(kids, n)
			}
		}
	}
	sort.Ints(kids)
	return kids
}

// AllKinds starts a process with its own namespace of all eight kinds,
// including a user namespace mapping root and a time namespace with
// offsets, and the hostname "nsx-test".
func AllKinds(t testing.TB) *Target {
	return Start(t, []string{"--user", "--map-root-user", "--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--time",
		"--monotonic", "100000", "--boottime", "200000", "--mount-proc"},
		`hostname nsx-test && echo ready > "$READY" && exec sleep 1000`)
}

// SharedUser starts a process with its own namespaces of every kind except
// user: the common container shape.
func SharedUser(t testing.TB) *Target {
	return Start(t, []string{"--pid", "--mount", "--net", "--uts", "--ipc", "--cgroup", "--time", "--mount-proc"},
		`hostname nsx-test && echo ready > "$READY" && exec sleep 1000`)
}
