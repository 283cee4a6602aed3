// Package enginetest starts containers in the real engines (Docker, podman,
// containerd, and containerd's CRI plugin) for nsx's tests, and cleans them
// up. Only tests import it: it links gRPC and the CRI API, which the nsx
// binary must not.
//
// The engines are those scripts/engines.sh installs and starts, with the
// image nsx-busybox:latest it imports. When an engine does not answer, a
// test is skipped, unless CI=true, where it fails: CI must never pass by
// skipping.
//
// Test packages run in parallel (go test ./...), and some tests stop a
// daemon. Require takes a shared lock on /tmp/nsx-engines/engines.lock for
// the test's duration; StopDaemon's callers take it exclusively.
package enginetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
)

// Image is the busybox image scripts/engines.sh imports into every engine.
const Image = "nsx-busybox:latest"

// Unavailable skips t, or fails it under CI=true (testutil.Require).
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	testutil.Require(t, false, fmt.Sprintf(format, args...)+" (engines must be installed and running: bash scripts/engines.sh install start images, as root)")
}

const lockPath = "/tmp/nsx-engines/engines.lock"

// lock takes the engines lock for the rest of t.
func lock(t testing.TB, how int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// Require checks that each named engine ("docker", "podman", "containerd",
// "cri") answers, and holds the shared engines lock for t.
func Require(t testing.TB, engines ...string) {
	t.Helper()
	requireRoot(t)
	lock(t, syscall.LOCK_SH)
	for _, e := range engines {
		if err := Ping(e); err != nil {
			Unavailable(t, "%s: %v", e, err)
		}
	}
}

// RequireExclusive is Require with the lock held exclusively, for tests
// that stop daemons.
func RequireExclusive(t testing.TB, engines ...string) {
	t.Helper()
	requireRoot(t)
	lock(t, syscall.LOCK_EX)
	for _, e := range engines {
		if err := Ping(e); err != nil {
			Unavailable(t, "%s: %v", e, err)
		}
	}
}

func requireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("container engine test (-short)")
	}
	if os.Geteuid() != 0 {
		Unavailable(t, "container engine tests need root")
	}
}

// Ping checks that an engine answers and has the test image.
func Ping(engine string) error {
	switch engine {
	case "docker":
		if _, err := run("docker", "image", "inspect", "-f", "{{.Id}}", Image); err != nil {
			return err
		}
	case "podman":
		if _, err := exec.LookPath("podman"); err != nil {
			return err
		}
		if _, err := run("podman", "image", "exists", Image); err != nil {
			return fmt.Errorf("podman has no image %s: %v", Image, err)
		}
	case "podman-service":
		if _, err := os.Stat("/run/podman/podman.sock"); err != nil {
			return err
		}
	case "containerd":
		out, err := run("ctr", "-n", "default", "images", "ls", "-q")
		if err != nil {
			return err
		}
		if !strings.Contains(out, "docker.io/library/"+Image) {
			return fmt.Errorf("containerd namespace default has no image %s", Image)
		}
	case "cri":
		c, err := DialCRI()
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Ping()
	default:
		return fmt.Errorf("unknown engine %q", engine)
	}
	return nil
}

// run runs a command and returns its trimmed stdout; the error carries
// stderr.
func run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	cmd.Stdin = nil
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Run runs a command, failing t on error, and returns its trimmed stdout.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := run(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Name returns a unique container name with a readable prefix.
func Name(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// Sleeper is the command test containers run: long enough for any test,
// short enough that a leftover dies on its own.
var Sleeper = []string{"sleep", "3600"}

// RunDocker starts a detached docker container (docker run -d --name name
// [extra...] nsx-busybox sleep 3600) and returns its full ID; t's cleanup
// removes it.
func RunDocker(t testing.TB, name string, extra ...string) string {
	t.Helper()
	return RunDockerCmd(t, name, extra, Sleeper)
}

// RunDockerCmd is RunDocker with a command of the caller's.
func RunDockerCmd(t testing.TB, name string, opts, cmd []string) string {
	t.Helper()
	return runEngine(t, "docker", name, opts, cmd)
}

func runEngine(t testing.TB, engine, name string, opts, cmd []string) string {
	t.Helper()
	args := append([]string{"run", "-d", "--name", name}, opts...)
	args = append(args, Image)
	args = append(args, cmd...)
	t.Cleanup(func() { removeEngine(engine, name) })
	return Run(t, engine, args...)
}

func removeEngine(engine, name string) {
	if engine == "podman" {
		run("podman", "rm", "-f", "-t", "0", name)
		return
	}
	run(engine, "rm", "-f", name)
}

// CreateDocker creates (without starting) a docker container.
func CreateDocker(t testing.TB, name string) string {
	t.Helper()
	args := append([]string{"create", "--name", name, Image}, Sleeper...)
	id := Run(t, "docker", args...)
	t.Cleanup(func() { run("docker", "rm", "-f", name) })
	return id
}

// RunPodman is RunDocker for podman.
func RunPodman(t testing.TB, name string, extra ...string) string {
	t.Helper()
	return RunPodmanCmd(t, name, extra, Sleeper)
}

// RunPodmanCmd is RunPodman with a command of the caller's.
func RunPodmanCmd(t testing.TB, name string, opts, cmd []string) string {
	t.Helper()
	return runEngine(t, "podman", name, opts, cmd)
}

// CreatePodman creates (without starting) a podman container.
func CreatePodman(t testing.TB, name string) string {
	t.Helper()
	args := append([]string{"create", "--name", name, Image}, Sleeper...)
	id := Run(t, "podman", args...)
	t.Cleanup(func() { run("podman", "rm", "-f", "-t", "0", name) })
	return id
}

// RunCtr starts a containerd container with ctr in namespace ns, with the
// given ID, and returns its task's PID; t's cleanup kills and removes it.
func RunCtr(t testing.TB, ns, id string) int {
	t.Helper()
	args := append([]string{"-n", ns, "run", "-d", "docker.io/library/" + Image, id}, Sleeper...)
	Run(t, "ctr", args...)
	t.Cleanup(func() { RemoveCtr(ns, id) })
	return CtrPID(t, ns, id)
}

// CreateCtr creates a containerd container without a task.
func CreateCtr(t testing.TB, ns, id string) {
	t.Helper()
	args := append([]string{"-n", ns, "containers", "create", "docker.io/library/" + Image, id}, Sleeper...)
	Run(t, "ctr", args...)
	t.Cleanup(func() { RemoveCtr(ns, id) })
}

// RemoveCtr kills a ctr container's task and deletes it.
func RemoveCtr(ns, id string) {
	run("ctr", "-n", ns, "tasks", "kill", "-s", "SIGKILL", id)
	for i := 0; i < 50; i++ {
		if _, err := run("ctr", "-n", ns, "tasks", "delete", id); err == nil {
			break
		}
		if out, _ := run("ctr", "-n", ns, "tasks", "ls", "-q"); !containsLine(out, id) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	run("ctr", "-n", ns, "containers", "delete", id)
}

func containsLine(out, s string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) == s {
			return true
		}
	}
	return false
}

// CtrPID returns the PID of a containerd task, from ctr tasks ls.
func CtrPID(t testing.TB, ns, id string) int {
	t.Helper()
	out := Run(t, "ctr", "-n", ns, "tasks", "ls")
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == id {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("ctr tasks ls: %q", l)
			}
			return pid
		}
	}
	t.Fatalf("ctr tasks ls: no task %s/%s in %q", ns, id, out)
	return 0
}

// InspectPID returns State.Pid as the engine's CLI reports it ("docker" or
// "podman").
func InspectPID(t testing.TB, engine, name string) int {
	t.Helper()
	out := Run(t, engine, "inspect", "-f", "{{.State.Pid}}", name)
	pid, err := strconv.Atoi(out)
	if err != nil || pid <= 0 {
		t.Fatalf("%s inspect %s: State.Pid %q", engine, name, out)
	}
	return pid
}

// NSInode returns the inode of /proc/PID/ns/KIND.
func NSInode(t testing.TB, pid int, kind string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/"+strconv.Itoa(pid)+"/ns/"+kind, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// NSLink returns the target of /proc/PID/ns/KIND, e.g. "net:[4026532207]".
func NSLink(t testing.TB, pid int, kind string) string {
	t.Helper()
	s, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Kinds are the namespace kinds a container may have of its own.
var Kinds = []string{"mnt", "uts", "ipc", "net", "pid", "cgroup"}

// SharedPrefix creates containers with create until two of their IDs share
// a first hex digit, and returns that digit and the two IDs. create makes one
// container (named name) and returns its full ID; it must register its own
// cleanup. Seventeen containers guarantee a collision.
func SharedPrefix(t testing.TB, create func(name string) string) (prefix string, a, b string) {
	t.Helper()
	seen := map[byte]string{}
	for i := 0; i < 17; i++ {
		id := create(Name("nsx-amb"))
		if prev, ok := seen[id[0]]; ok {
			return id[:1], prev, id
		}
		seen[id[0]] = id
	}
	t.Fatal("17 IDs without a shared first digit")
	return
}

// StopDaemon stops one engine daemon ("dockerd", "containerd", "podman")
// with scripts/engines.sh, and restarts all of them at t's cleanup. Callers
// hold the exclusive lock (RequireExclusive).
func StopDaemon(t testing.TB, daemon string) {
	t.Helper()
	script := filepath.Join(testutil.ModuleRoot(t), "scripts", "engines.sh")
	t.Cleanup(func() {
		if out, err := exec.Command("bash", script, "start").CombinedOutput(); err != nil {
			t.Errorf("restarting engines: %v: %s", err, out)
		}
	})
	if out, err := exec.Command("bash", script, "stop", daemon).CombinedOutput(); err != nil {
		t.Fatalf("stopping %s: %v: %s", daemon, err, out)
	}
}
