package e2e

// `nsx enter` with container references, end to end against the real
// engines (scripts/engines.sh install start images): the program nsx runs
// must be in the container's namespaces, as the kernel reports them.
// Without engines these tests skip, except under CI=true where they fail.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/enginetest"
)

// ctrNSX is nsx at a fixed path that anyone can read (the permission test
// runs it as nobody), built once per test binary.
func ctrNSX(t *testing.T) string {
	t.Helper()
	const dir = "/tmp/nsx-engines/e2e"
	os.MkdirAll(filepath.Dir(dir), 0o755)
	os.Chmod(filepath.Dir(dir), 0o755)
	return placedNSX(t, dir)
}

type ctrResult struct {
	stdout, stderr string
	code           int
}

// ctrRun runs a command with no stdin and a deadline.
func ctrRun(t *testing.T, name string, args ...string) ctrResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s: timed out", name, strings.Join(args, " "))
	}
	return ctrResult{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// nsProbe prints the program's own namespaces, one readlink per line; it
// runs in the container (busybox) or on the host alike.
func nsProbe(kinds []string) []string {
	return []string{"--", "sh", "-c", "for k in " + strings.Join(kinds, " ") + "; do readlink /proc/self/ns/$k; done"}
}

// enterAndCompare runs nsx enter OPTS REF -- readlink /proc/self/ns/... and
// checks every kind: those in want against the container's process (pid),
// the others against our own.
func enterAndCompare(t *testing.T, ref string, pid int, opts []string, want map[string]bool) {
	t.Helper()
	nsx := ctrNSX(t)
	kinds := enginetest.Kinds
	args := append([]string{"enter"}, opts...)
	args = append(args, ref)
	args = append(args, nsProbe(kinds)...)
	r := ctrRun(t, nsx, args...)
	if r.code != 0 {
		t.Fatalf("nsx %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(got) != len(kinds) {
		t.Fatalf("nsx %s: output %q", strings.Join(args, " "), r.stdout)
	}
	for i, k := range kinds {
		from := os.Getpid()
		if want == nil || want[k] {
			from = pid
		}
		if exp := enginetest.NSLink(t, from, k); got[i] != exp {
			t.Errorf("nsx %s: %s is %s, want %s (of PID %d)", strings.Join(opts, " "), k, got[i], exp, from)
		}
	}
}

// enterMatrix enters ref with all namespaces implied, with -a, and with
// -n -u, comparing namespaces each time.
func enterMatrix(t *testing.T, ref string, pid int) {
	t.Helper()
	enterAndCompare(t, ref, pid, nil, nil)
	enterAndCompare(t, ref, pid, []string{"-a"}, nil)
	enterAndCompare(t, ref, pid, []string{"-n", "-u"}, map[string]bool{"net": true, "uts": true})
}

// wantFail runs nsx enter REF -- true and expects exit 1 with a one-line
// error holding every one of subs.
func wantFail(t *testing.T, ref string, subs ...string) {
	t.Helper()
	r := ctrRun(t, ctrNSX(t), "enter", ref, "--", "true")
	if r.code != 1 {
		t.Fatalf("nsx enter %s: exit %d, want 1 (stderr %q)", ref, r.code, r.stderr)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "nsx") {
		t.Errorf("nsx enter %s: error is not one 'nsx…: ' line: %q", ref, r.stderr)
	}
	for _, s := range subs {
		if !strings.Contains(msg, s) {
			t.Errorf("nsx enter %s: error %q lacks %q", ref, msg, s)
		}
	}
}

func TestEnterDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	name := enginetest.Name("nsx-e2e-d")
	id := enginetest.RunDocker(t, name)
	pid := enginetest.InspectPID(t, "docker", name)
	enterMatrix(t, "docker:"+name, pid)
	enterMatrix(t, "docker:"+id[:12], pid)
	enterAndCompare(t, name, pid, nil, nil) // bare name

	// The container's own view: its hostname and its PID 1.
	r := ctrRun(t, ctrNSX(t), "enter", "docker:"+name, "--", "sh", "-c", "hostname; cat /proc/1/comm")
	if r.code != 0 || r.stdout != id[:12]+"\nsleep\n" {
		t.Errorf("hostname and PID 1: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	stopped := enginetest.Name("nsx-e2e-ds")
	enginetest.RunDocker(t, stopped)
	enginetest.Run(t, "docker", "stop", "-t", "0", stopped)
	wantFail(t, "docker:"+stopped, "has exited")
	created := enginetest.Name("nsx-e2e-dc")
	enginetest.CreateDocker(t, created)
	wantFail(t, "docker:"+created, "created but not running")
	wantFail(t, "docker:nsx-e2e-no-such", "no such container", "docker")
	prefix, a, b := enginetest.SharedPrefix(t, func(n string) string { return enginetest.CreateDocker(t, n) })
	wantFail(t, "docker:"+prefix, "ambiguous", a[:12], b[:12])
}

func TestEnterPodman(t *testing.T) {
	enginetest.Require(t, "podman")
	name := enginetest.Name("nsx-e2e-p")
	id := enginetest.RunPodman(t, name)
	pid := enginetest.InspectPID(t, "podman", name)
	enterMatrix(t, "podman:"+name, pid)
	enterMatrix(t, "podman:"+id[:12], pid)

	created := enginetest.Name("nsx-e2e-pc")
	enginetest.CreatePodman(t, created)
	wantFail(t, "podman:"+created, "created but not running")
	wantFail(t, "podman:nsx-e2e-no-such", "no such container")
	prefix, a, b := enginetest.SharedPrefix(t, func(n string) string { return enginetest.CreatePodman(t, n) })
	wantFail(t, "podman:"+prefix, "ambiguous", a[:12], b[:12])
}

func TestEnterContainerd(t *testing.T) {
	enginetest.Require(t, "containerd")
	id := enginetest.Name("nsx-e2e-c")
	pid := enginetest.RunCtr(t, "default", id)
	enterMatrix(t, "containerd:default/"+id, pid)
	enterMatrix(t, "containerd:"+id[:len(id)-3], pid)

	created := enginetest.Name("nsx-e2e-cc")
	enginetest.CreateCtr(t, "default", created)
	wantFail(t, "containerd:"+created, "no task")
	base := enginetest.Name("nsx-e2e-ca")
	enginetest.RunCtr(t, "default", base+"-1")
	enginetest.RunCtr(t, "default", base+"-2")
	wantFail(t, "containerd:"+base, "ambiguous", base+"-1", base+"-2")
}

func TestEnterCRI(t *testing.T) {
	enginetest.Require(t, "cri")
	c := enginetest.DialCRIT(t)
	ns, pod := enginetest.Name("nsx-e2e-ns"), enginetest.Name("nsx-e2e-pod")
	podID := c.RunPod(t, ns, pod)
	id := c.CreateContainer(t, podID, "app", true)
	pid := c.PID(t, id)
	enterMatrix(t, "cri:"+ns+"/"+pod+"/app", pid)
	enterMatrix(t, "cri:"+id[:12], pid)

	// In the pod's PID namespace the pause process is PID 1.
	r := ctrRun(t, ctrNSX(t), "enter", "cri:"+ns+"/"+pod+"/app", "--", "cat", "/proc/1/cmdline")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "/bin/sh\x00-c\x00trap") {
		t.Errorf("PID 1 of the pod: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	side := c.CreateContainer(t, podID, "side", true)
	c.StopContainer(t, side)
	wantFail(t, "cri:"+ns+"/"+pod+"/side", "has exited")
	wantFail(t, "cri:"+ns+"/"+pod+"/nosuch", "no container nosuch")
}

// The daemon stopped while its container runs: nsx still enters it, from
// the daemonless sources.
func TestEnterDaemonStopped(t *testing.T) {
	enginetest.RequireExclusive(t, "docker", "containerd")
	name := enginetest.Name("nsx-e2e-dd")
	id := enginetest.RunDocker(t, name)
	pid := enginetest.InspectPID(t, "docker", name)
	cid := enginetest.Name("nsx-e2e-cd")
	cpid := enginetest.RunCtr(t, "default", cid)

	enginetest.StopDaemon(t, "dockerd")
	enterMatrix(t, "docker:"+name, pid)
	enterAndCompare(t, "docker:"+id[:12], pid, nil, nil)
	enginetest.StopDaemon(t, "containerd")
	enterMatrix(t, "containerd:"+cid, cpid)
	enterAndCompare(t, "docker:"+name, pid, nil, nil)
	wantFail(t, "docker:nsx-e2e-no-such", "unreachable")
}

// As a user without access to the sockets and state: a permission error.
func TestEnterPermissionDenied(t *testing.T) {
	enginetest.Require(t, "docker")
	name := enginetest.Name("nsx-e2e-perm")
	enginetest.RunDocker(t, name)
	nsx := ctrNSX(t)
	cmd := exec.Command(nsx, "enter", "docker:"+name, "--", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	if cmd.ProcessState == nil {
		t.Fatal(err)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errb.String())
	}
	msg := strings.TrimSuffix(errb.String(), "\n")
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "permission denied") || !strings.Contains(msg, "/var/run/docker.sock") {
		t.Errorf("error %q: want one line naming the socket and 'permission denied'", msg)
	}
}

// Node debugging: nsx inside a privileged container that shares the host's
// PID namespace and has /run mounted enters a sibling container by name.
func TestEnterFromPrivilegedContainer(t *testing.T) {
	enginetest.Require(t, "docker")
	nsx := ctrNSX(t)
	sibling := enginetest.Name("nsx-e2e-sib")
	enginetest.RunDocker(t, sibling)
	pid := enginetest.InspectPID(t, "docker", sibling)

	// An image: the busybox image plus the static nsx.
	image := "nsx-e2e-debug:" + strconv.Itoa(os.Getpid())
	tmp := enginetest.Name("nsx-e2e-img")
	enginetest.CreateDocker(t, tmp)
	enginetest.Run(t, "docker", "cp", nsx, tmp+":/bin/nsx")
	enginetest.Run(t, "docker", "commit", tmp, image)
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })

	kinds := enginetest.Kinds
	cmd := append([]string{image, "/bin/nsx", "enter", "docker:" + sibling}, nsProbe(kinds)...)
	args := append([]string{"run", "--rm", "--privileged", "--pid=host", "-v", "/run:/run"}, cmd...)
	r := ctrRun(t, "docker", args...)
	if r.code == 125 && strings.Contains(r.stderr, "unable to apply caps") {
		// This machine's own capability bounding set lacks some capability
		// (CAP_SYS_RESOURCE in the sandboxes nsx is developed in), so no
		// container can be --privileged here. Grant what the bounding set
		// has, unconfined, which is what --privileged means for nsx.
		t.Logf("--privileged refused (%s); using every capability we have instead", strings.TrimSpace(r.stderr))
		args = []string{"run", "--rm", "--pid=host", "-v", "/run:/run", "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined", "--cap-add", "ALL"}
		for _, c := range missingCaps(t) {
			args = append(args, "--cap-drop", c)
		}
		args = append(args, cmd...)
		r = ctrRun(t, "docker", args...)
	}
	if r.code != 0 {
		t.Fatalf("docker %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	got := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(got) != len(kinds) {
		t.Fatalf("output %q", r.stdout)
	}
	for i, k := range kinds {
		if exp := enginetest.NSLink(t, pid, k); got[i] != exp {
			t.Errorf("%s: %s, want the sibling's %s", k, got[i], exp)
		}
	}
}

// missingCaps names the capabilities Docker knows that our bounding set
// lacks.
func missingCaps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var bnd uint64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			bnd, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	names := []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
		"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK",
		"IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT",
		"SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
		"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON",
		"BPF", "CHECKPOINT_RESTORE"}
	var out []string
	for i, n := range names {
		if bnd&(1<<uint(i)) == 0 {
			out = append(out, n)
		}
	}
	return out
}
