package e2e

// Containers nsx had never been tested against: rootless podman (an
// unprivileged user's own storage, runtime directory and user namespace,
// and no cgroup of its own on this hybrid host) and podman with crun as
// its OCI runtime (crun's status files). nsx must enter, list and inspect
// them, as the user and as root. The test user is nsxrt (made when
// missing); its containers are removed at the end.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

const rootlessUser = "nsxrt"

// rootlessEnv makes sure the test user exists with subordinate ids, a
// runtime directory and the busybox image in its own storage, and returns
// the command prefix that runs a program as that user.
func rootlessEnv(t *testing.T) []string {
	t.Helper()
	enginetest.Require(t, "podman")
	for _, tool := range []string{"runuser", "useradd", "usermod", "newuidmap", "newgidmap"} {
		testutil.RequireTool(t, tool)
	}
	if _, err := exec.Command("id", "-u", rootlessUser).Output(); err != nil {
		enginetest.Run(t, "useradd", "-m", "-s", "/bin/sh", rootlessUser)
	}
	uid := strings.TrimSpace(enginetest.Run(t, "id", "-u", rootlessUser))
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		b, _ := os.ReadFile(f)
		if !strings.Contains("\n"+string(b), "\n"+rootlessUser+":") {
			flag := "--add-subuids"
			if strings.HasSuffix(f, "gid") {
				flag = "--add-subgids"
			}
			enginetest.Run(t, "usermod", flag, "300000-365535", rootlessUser)
		}
	}
	xdg := "/run/user/" + uid
	if err := os.MkdirAll(xdg, 0o700); err != nil {
		t.Fatal(err)
	}
	// Rootless podman leaves a pause process holding its user namespace;
	// it is stopped once the test's containers are gone (this cleanup runs
	// after theirs).
	t.Cleanup(func() { stopPauseProcess(t, filepath.Join(xdg, "libpod", "tmp", "pause.pid"), uid) })
	enginetest.Run(t, "chown", rootlessUser+":"+rootlessUser, xdg)
	as := []string{"runuser", "-u", rootlessUser, "--", "env", "HOME=/home/" + rootlessUser,
		"XDG_RUNTIME_DIR=" + xdg, "USER=" + rootlessUser, "LOGNAME=" + rootlessUser, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if r := ctrRun(t, as[0], append(as[1:], "podman", "image", "exists", "localhost/"+enginetest.Image)...); r.code != 0 {
		archive := filepath.Join("/tmp/nsx-engines", "nsx-runtime-busybox.tar")
		os.Remove(archive)
		enginetest.Run(t, "podman", "save", "--format", "oci-archive", "-o", archive, enginetest.Image)
		os.Chmod(archive, 0o644)
		defer os.Remove(archive)
		if r := ctrRun(t, as[0], append(as[1:], "podman", "load", "-i", archive)...); r.code != 0 {
			t.Fatalf("podman load as %s: %s", rootlessUser, r.stderr)
		}
	}
	return as
}

// nsLinks runs nsx [args] -- readlink of every kind's /proc/self/ns link,
// through prefix (e.g. runuser), and returns the links.
func nsLinks(t *testing.T, prefix []string, args ...string) []string {
	t.Helper()
	nsx := ctrNSX(t)
	cmd := append(append([]string{}, prefix...), nsx)
	cmd = append(cmd, args...)
	cmd = append(cmd, "--", "sh", "-c", "for k in "+strings.Join(rootlessKinds, " ")+"; do readlink /proc/self/ns/$k; done")
	r := ctrRun(t, cmd[0], cmd[1:]...)
	if r.code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(cmd, " "), r.code, r.stderr)
	}
	return strings.Split(strings.TrimSpace(r.stdout), "\n")
}

var rootlessKinds = []string{"user", "mnt", "uts", "ipc", "net", "pid", "cgroup"}

// checkEntered compares the links nsx's program saw with those of pid.
func checkEntered(t *testing.T, who string, got []string, pid int) {
	t.Helper()
	if len(got) != len(rootlessKinds) {
		t.Fatalf("%s: output %q", who, got)
	}
	for i, k := range rootlessKinds {
		if want := enginetest.NSLink(t, pid, k); got[i] != want {
			t.Errorf("%s: %s is %s, want the container's %s", who, k, got[i], want)
		}
	}
}

// checkListedAndInspected runs nsx ls and nsx inspect (through prefix) and
// checks that they name the container.
func checkListedAndInspected(t *testing.T, prefix []string, ref string, pid int) {
	t.Helper()
	nsx := ctrNSX(t)
	ls := append(append([]string{}, prefix...), nsx, "ls", "-n", "-r", "-o", "TYPE,PID,CONTAINER")
	r := ctrRun(t, ls[0], ls[1:]...)
	if r.code != 0 {
		t.Fatalf("nsx ls: %s", r.stderr)
	}
	if !strings.Contains("\n"+r.stdout, "\nmnt "+strconv.Itoa(pid)+" "+ref+"\n") {
		t.Errorf("%s: nsx ls has no row \"mnt %d %s\":\n%s", strings.Join(prefix, " "), pid, ref, r.stdout)
	}
	in := append(append([]string{}, prefix...), nsx, "inspect", ref)
	r = ctrRun(t, in[0], in[1:]...)
	if r.code != 0 || !strings.Contains(r.stdout, "PID:           "+strconv.Itoa(pid)+"\n") || !strings.Contains(r.stdout, "Container:     "+ref+" (") {
		t.Errorf("%s: nsx inspect %s: exit %d\n%s%s", strings.Join(prefix, " "), ref, r.code, r.stdout, r.stderr)
	}
}

func TestRootlessPodman(t *testing.T) {
	as := rootlessEnv(t)
	name := enginetest.Name("nsx-runtime-rl")
	podmanAs := append(append([]string{}, as...), "podman")
	run := append(append([]string{}, podmanAs...), "run", "-d", "--name", name, "--network", "none", "localhost/"+enginetest.Image)
	run = append(run, enginetest.Sleeper...)
	t.Cleanup(func() {
		rm := append(append([]string{}, podmanAs...), "rm", "-f", "-t", "0", name)
		exec.Command(rm[0], rm[1:]...).Run()
	})
	if r := ctrRun(t, run[0], run[1:]...); r.code != 0 {
		t.Fatalf("rootless podman run: %s", r.stderr)
	}
	insp := append(append([]string{}, podmanAs...), "inspect", "-f", "{{.State.Pid}}", name)
	r := ctrRun(t, insp[0], insp[1:]...)
	pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if err != nil || pid <= 0 {
		t.Fatalf("podman inspect as %s: %q %s", rootlessUser, r.stdout, r.stderr)
	}
	if enginetest.NSLink(t, pid, "user") == enginetest.NSLink(t, os.Getpid(), "user") {
		t.Fatal("the rootless container shares the host's user namespace")
	}
	ref := "podman:" + name

	// As the user, from the user's own storage.
	checkEntered(t, "as "+rootlessUser, nsLinks(t, as, "enter", ref), pid)
	checkListedAndInspected(t, as, ref, pid)
	// As root, from the user's runtime directory.
	checkEntered(t, "as root", nsLinks(t, nil, "enter", ref), pid)
	checkListedAndInspected(t, nil, ref, pid)
}

// crunWrap runs podman so that crun 1.8.1 starts: it refuses a hybrid
// cgroup host whose v2 hierarchy holds a controller ("cgroups in hybrid
// mode not supported, drop all controllers from cgroupv2"); in a private
// mount namespace without /sys/fs/cgroup/unified it sees a v1 host. The
// host's mounts are untouched.
func crunWrap(args ...string) []string {
	return append([]string{"unshare", "-m", "--propagation", "private", "sh", "-c",
		`umount -l /sys/fs/cgroup/unified 2>/dev/null; exec "$@"`, "sh", "podman"}, args...)
}

func TestPodmanCrun(t *testing.T) {
	enginetest.Require(t, "podman")
	crun := testutil.RequireTool(t, "crun")
	testutil.RequireTool(t, "unshare")
	name := enginetest.Name("nsx-runtime-crun")
	t.Cleanup(func() {
		rm := crunWrap("rm", "-f", "-t", "0", name)
		exec.Command(rm[0], rm[1:]...).Run()
	})
	run := crunWrap(append([]string{"run", "-d", "--name", name, "--runtime", crun, "--network", "none", enginetest.Image}, enginetest.Sleeper...)...)
	r := ctrRun(t, run[0], run[1:]...)
	if r.code != 0 {
		t.Fatalf("podman run --runtime crun: %s", r.stderr)
	}
	id := strings.TrimSpace(r.stdout)
	pid := enginetest.InspectPID(t, "podman", name)
	status, err := os.ReadFile("/run/crun/" + id + "/status")
	if err != nil || !strings.Contains(string(status), `"pid": `+strconv.Itoa(pid)) {
		t.Fatalf("crun's status file: %v\n%s", err, status)
	}
	ref := "podman:" + name
	checkEntered(t, "crun", nsLinks(t, nil, "enter", ref), pid)
	checkListedAndInspected(t, nil, ref, pid)

	// Without the podman service, from the state files: crun's status
	// gives the PID and its start time.
	nsx := ctrNSX(t)
	cmd := exec.Command(nsx, "enter", "--explain", ref)
	cmd.Env = append(os.Environ(), "CONTAINER_HOST=unix:///nonexistent/nsx-runtime.sock")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PID "+strconv.Itoa(pid)+", found by podman state files") {
		t.Errorf("daemonless: %v\n%s", err, out)
	}
}

// stopPauseProcess kills the test user's podman pause process, if the pid
// file names one of that user's processes.
func stopPauseProcess(t *testing.T, pidFile, uid string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil || !strings.Contains(string(status), "\nUid:\t"+uid+"\t") {
		return
	}
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
