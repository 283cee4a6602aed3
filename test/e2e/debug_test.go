package e2e

// `nsx debug` end to end: host tools run in a shell-less container's
// namespaces, with its files at /target, against docker, podman and
// containerd, and against a target with its own user namespace. Every
// check is something the kernel or the engine reports: namespace links,
// the processes and interfaces the program sees, EROFS, `docker diff`, a
// captured packet, exit statuses, open fds, mountinfo.

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/nsenter"
	"github.com/nsxproject/nsx/target"
)

// debugImage is a rootfs whose only program is a static busybox at /busybox:
// no /bin/sh, no tools, as distroless and scratch images are.
const debugImage = "nsx-debug-shellless:latest"

// debugMarker is a file of the image, read back at /target.
const debugMarker = "nsx debug marker 7f3a\n"

var debugImg struct {
	once   sync.Once
	rootfs string
	err    error
}

// shellLessImage builds the image once per test binary and imports it into
// docker, podman and containerd's default namespace. It returns the rootfs,
// which also serves as a toolbox that is not a root filesystem.
func shellLessImage(t *testing.T) string {
	t.Helper()
	enginetest.Require(t, "docker", "podman", "containerd")
	debugImg.once.Do(func() {
		// A fixed path that the next run replaces, as ctrNSX's binary:
		// runs leave nothing behind but the image.
		dir := "/tmp/nsx-engines/nsx-debug-rootfs"
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			debugImg.err = err
			return
		}
		debugImg.rootfs = dir
		bb, err := os.ReadFile("/bin/busybox")
		if err != nil {
			debugImg.err = fmt.Errorf("busybox-static: %w", err)
			return
		}
		for _, d := range []string{"etc", "data", "proc", "sys", "dev", "tmp"} {
			os.Mkdir(filepath.Join(dir, d), 0o755)
		}
		if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
			debugImg.err = err
			return
		}
		if err := os.WriteFile(filepath.Join(dir, "etc", "nsx-debug-marker"), []byte(debugMarker), 0o644); err != nil {
			debugImg.err = err
			return
		}
		steps := [][]string{
			{"sh", "-c", "tar -C " + dir + " -c . | docker import -c 'CMD [\"/busybox\", \"sleep\", \"3600\"]' - " + debugImage},
			{"sh", "-c", "docker save " + debugImage + " | ctr -n default images import -"},
			{"sh", "-c", "docker save " + debugImage + " | podman load -q"},
		}
		for _, s := range steps {
			if out, err := exec.Command(s[0], s[1:]...).CombinedOutput(); err != nil {
				debugImg.err = fmt.Errorf("%s: %v: %s", s[2], err, out)
				return
			}
		}
	})
	if debugImg.err != nil {
		t.Fatal(debugImg.err)
	}
	return debugImg.rootfs
}

// debugTarget is a running shell-less container.
type debugTarget struct {
	ref  string
	pid  int
	addr string // its IPv4 address, "" when it has only loopback
	// changes lists what the container's writable layer holds besides
	// what the engine put there, as its engine reports it ("A /x").
	changes func(t *testing.T) []string
}

func runDebugDocker(t *testing.T) *debugTarget {
	name := enginetest.Name("nsx-debug-d")
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	enginetest.Run(t, "docker", "run", "-d", "--name", name, debugImage, "/busybox", "sleep", "3600")
	return &debugTarget{
		ref:     "docker:" + name,
		pid:     enginetest.InspectPID(t, "docker", name),
		addr:    enginetest.Run(t, "docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name),
		changes: func(t *testing.T) []string { return engineDiff(t, "docker", name) },
	}
}

func runDebugPodman(t *testing.T) *debugTarget {
	name := enginetest.Name("nsx-debug-p")
	t.Cleanup(func() { exec.Command("podman", "rm", "-f", "-t", "0", name).Run() })
	enginetest.Run(t, "podman", "run", "-d", "--name", name, debugImage, "/busybox", "sleep", "3600")
	return &debugTarget{
		ref:     "podman:" + name,
		pid:     enginetest.InspectPID(t, "podman", name),
		addr:    enginetest.Run(t, "podman", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name),
		changes: func(t *testing.T) []string { return engineDiff(t, "podman", name) },
	}
}

func runDebugContainerd(t *testing.T) *debugTarget {
	id := enginetest.Name("nsx-debug-c")
	enginetest.Run(t, "ctr", "-n", "default", "run", "-d", "docker.io/library/"+debugImage, id, "/busybox", "sleep", "3600")
	t.Cleanup(func() { enginetest.RemoveCtr("default", id) })
	pid := enginetest.CtrPID(t, "default", id)
	return &debugTarget{
		ref: "containerd:default/" + id,
		pid: pid,
		// ctr has no diff: the probes' paths are looked up in the
		// container's root directly.
		changes: func(t *testing.T) []string {
			var out []string
			for _, p := range []string{"/nsx-debug-ro", "/nsx-debug-rw"} {
				if _, err := os.Lstat(fmt.Sprintf("/proc/%d/root%s", pid, p)); err == nil {
					out = append(out, "A "+p)
				}
			}
			return out
		},
	}
}

// engineDiff is `docker diff` (or podman's) without the entries every
// container of the engine has.
func engineDiff(t *testing.T, engine, name string) []string {
	t.Helper()
	var out []string
	for _, l := range strings.Split(enginetest.Run(t, engine, "diff", name), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestDebugDocker(t *testing.T) {
	shellLessImage(t)
	testDebug(t, runDebugDocker(t))
}

func TestDebugPodman(t *testing.T) {
	shellLessImage(t)
	testDebug(t, runDebugPodman(t))
}

func TestDebugContainerd(t *testing.T) {
	shellLessImage(t)
	testDebug(t, runDebugContainerd(t))
}

// debugOnce makes the fds this test process inherited without
// close-on-exec (from a CI runner, say) close-on-exec, once.
var debugOnce sync.Once

// debugNSX is an nsx binary of this tree at a path of its own (the shared
// one of ctrNSX may be replaced by another checkout's build while tests
// run). Inherited fds are made close-on-exec first, so that the fd checks
// see only what nsx passes on.
func debugNSX(t *testing.T) string {
	t.Helper()
	debugOnce.Do(func() {
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	})
	return placedNSX(t, "/tmp/nsx-engines/nsx-debug")
}

// debugRun runs nsx debug with args and no stdin.
func debugRun(t *testing.T, args ...string) ctrResult {
	t.Helper()
	return ctrRun(t, debugNSX(t), append([]string{"debug"}, args...)...)
}

func debugOK(t *testing.T, args ...string) string {
	t.Helper()
	r := debugRun(t, args...)
	if r.code != 0 {
		t.Fatalf("nsx debug %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// testDebug checks every promise of nsx debug against one shell-less
// container.
func testDebug(t *testing.T, c *debugTarget) {
	hostMounts := testutil.Mountinfo(t, os.Getpid())
	before := testutil.Mountinfo(t, c.pid)
	// What the engine itself changed (podman writes /etc entries).
	baseline := strings.Join(c.changes(t), ",")
	changed := func(t *testing.T) string {
		var out []string
		for _, l := range c.changes(t) {
			if !strings.Contains(","+baseline+",", ","+l+",") {
				out = append(out, l)
			}
		}
		return strings.Join(out, ",")
	}

	// The container really has no shell.
	if r := ctrRun(t, debugNSX(t), "enter", c.ref, "--", "sh", "-c", "true"); r.code != 127 {
		t.Fatalf("nsx enter %s -- sh: exit %d, want 127 (the image must have no shell): %s", c.ref, r.code, r.stderr)
	}

	t.Run("namespaces", func(t *testing.T) {
		kinds := []string{"uts", "ipc", "net", "pid", "cgroup", "user", "time"}
		args := []string{c.ref, "--", "sh", "-c", "for k in " + strings.Join(kinds, " ") + " mnt; do readlink /proc/self/ns/$k; done"}
		got := strings.Split(strings.TrimSpace(debugOK(t, args...)), "\n")
		if len(got) != len(kinds)+1 {
			t.Fatalf("output %q", got)
		}
		for i, k := range kinds {
			if want := enginetest.NSLink(t, c.pid, k); got[i] != want {
				t.Errorf("%s is %s, want the container's %s", k, got[i], want)
			}
		}
		mnt := got[len(kinds)]
		if mnt == enginetest.NSLink(t, c.pid, "mnt") || mnt == enginetest.NSLink(t, os.Getpid(), "mnt") {
			t.Errorf("mnt is %s: the container's or the host's, not a new one", mnt)
		}
	})

	t.Run("ps", func(t *testing.T) {
		// ps itself is the only process besides the container's.
		out := debugOK(t, c.ref, "--", "ps", "-e", "-o", "pid=,comm=")
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			got = append(got, strings.Join(strings.Fields(l), " "))
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", c.pid))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != "1 "+strings.TrimSpace(string(comm)) || !strings.HasSuffix(got[1], " ps") {
			t.Errorf("ps -e: %q, want the container's PID 1 (%s) and ps", got, strings.TrimSpace(string(comm)))
		}
	})

	t.Run("links", func(t *testing.T) {
		got := linkNames(debugOK(t, c.ref, "--", "ip", "-o", "link"))
		oracle := testutil.Oracle(t, "nsenter")
		out, err := exec.Command(oracle, "-t", strconv.Itoa(c.pid), "-n", "ip", "-o", "link").Output()
		if err != nil {
			t.Fatal(err)
		}
		want := linkNames(string(out))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ip -o link: %v, want the container's %v", got, want)
		}
		if host := linkNames(runOut(t, "ip", "-o", "link")); strings.Join(host, " ") == strings.Join(got, " ") {
			t.Errorf("ip -o link shows the host's interfaces %v", host)
		}
	})

	t.Run("files", func(t *testing.T) {
		if got := debugOK(t, c.ref, "--", "cat", "/target/etc/nsx-debug-marker"); got != debugMarker {
			t.Errorf("/target/etc/nsx-debug-marker: %q, want %q", got, debugMarker)
		}
		if got := debugOK(t, c.ref, "--", "sh", "-c", `echo "$NSX_TARGET"; test -e /busybox || echo no-busybox; test -x /usr/bin/tcpdump && echo host-tools`); got != "/target\nno-busybox\nhost-tools\n" {
			t.Errorf("NSX_TARGET and the toolbox: %q", got)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		r := debugRun(t, c.ref, "--", "sh", "-c", "echo x > /target/nsx-debug-ro")
		if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
			t.Errorf("write to /target: exit %d, stderr %q; want EROFS", r.code, r.stderr)
		}
		if d := changed(t); d != "" {
			t.Errorf("the container changed: %v", d)
		}
	})

	t.Run("tcpdump", func(t *testing.T) {
		debugCapture(t, c)
	})

	t.Run("status", func(t *testing.T) {
		if r := debugRun(t, c.ref, "--", "sh", "-c", "exit 7"); r.code != 7 {
			t.Errorf("exit 7: got %d (%s)", r.code, r.stderr)
		}
		cmd := exec.Command(debugNSX(t), "debug", c.ref, "--", "sh", "-c", "kill -TERM $$")
		err := cmd.Run()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if err == nil || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
			t.Errorf("death by SIGTERM: nsx ended with %v", cmd.ProcessState)
		}
		if r := debugRun(t, c.ref, "--", "/nsx-debug-no-such-program"); r.code != 127 {
			t.Errorf("missing program: exit %d, want 127", r.code)
		}
	})

	t.Run("fds", func(t *testing.T) {
		if got := debugOK(t, c.ref, "--", "sh", "-c", "ls /proc/$$/fd"); got != "0\n1\n2\n" {
			t.Errorf("open fds of the program: %q, want 0 1 2", got)
		}
		extra, err := os.Open("/dev/null")
		if err != nil {
			t.Fatal(err)
		}
		defer extra.Close()
		cmd := exec.Command(debugNSX(t), "debug", c.ref, "--", "sh", "-c", "ls /proc/$$/fd")
		cmd.ExtraFiles = []*os.File{extra} // fd 3 of nsx, without close-on-exec
		out, err := cmd.Output()
		if err != nil || string(out) != "0\n1\n2\n3\n" {
			t.Errorf("an fd given to nsx: %q %v, want it passed on as enter does (0 1 2 3)", out, err)
		}
	})

	t.Run("rw", func(t *testing.T) {
		debugOK(t, "--rw", c.ref, "--", "sh", "-c", "echo x > /target/nsx-debug-rw")
		if d := changed(t); d != "A /nsx-debug-rw" {
			t.Errorf("after a write under --rw the container's changes are %v, want [A /nsx-debug-rw]", d)
		}
	})

	t.Run("toolbox", func(t *testing.T) {
		rootfs := shellLessImage(t)
		r := debugRun(t, "--toolbox", rootfs, c.ref)
		if msg := strings.TrimSuffix(r.stderr, "\n"); r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "not a root filesystem") {
			t.Errorf("toolbox without /bin/sh: exit %d, %q; want one line saying it is not a root filesystem", r.code, r.stderr)
		}
		if got := debugOK(t, "--toolbox", rootfs, c.ref, "--", "/busybox", "cat", "/target/etc/nsx-debug-marker"); got != debugMarker {
			t.Errorf("with the image as toolbox, the marker reads %q", got)
		}
		root := strings.Fields(debugOK(t, "--toolbox", rootfs, c.ref, "--", "/busybox", "ls", "/"))
		if strings.Join(root, " ") != "busybox data dev etc proc sys target tmp" {
			t.Errorf("with the image as toolbox, / holds %v", root)
		}
	})

	t.Run("explain", func(t *testing.T) {
		got := debugOK(t, "--explain", c.ref)
		for _, s := range []string{
			"net:[" + strconv.FormatUint(enginetest.NSInode(t, c.pid, "net"), 10) + "]",
			"pid:[" + strconv.FormatUint(enginetest.NSInode(t, c.pid, "pid"), 10) + "]",
			"/target", "read-only", "skip mnt",
		} {
			if !strings.Contains(got, s) {
				t.Errorf("--explain lacks %q:\n%s", s, got)
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		for _, opt := range []string{"-m", "-r", "-w", "-F", "-n", "--read-only"} {
			r := debugRun(t, opt, c.ref, "--", "true")
			msg := strings.TrimSuffix(r.stderr, "\n")
			if r.code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "refused") {
				t.Errorf("nsx debug %s: exit %d, %q; want one line refusing it", opt, r.code, r.stderr)
			}
		}
	})

	if diff := testutil.MountsChanged(t, c.pid, before); diff != "" {
		t.Errorf("the container's mountinfo changed:\n%s", diff)
	}
	if hostAfter := testutil.Mountinfo(t, os.Getpid()); strings.Contains(hostAfter, "nsx-debug ") || strings.Contains(hostAfter, " /target ") {
		t.Errorf("a debug mount is left on the host:\nbefore:\n%s\nafter:\n%s", hostMounts, hostAfter)
	}
}

// debugCapture runs tcpdump -c 1 in the container's network namespace and
// sends UDP packets to the container until it has captured one: from the
// host to the container's address, or over its loopback when it has no
// other interface (ctr's default).
func debugCapture(t *testing.T, c *debugTarget) {
	tcpdump := testutil.RequireTool(t, "tcpdump")
	iface, dst := "eth0", c.addr
	if dst == "" {
		iface, dst = "lo", "127.0.0.1"
	}
	cmd := exec.Command(debugNSX(t), "debug", c.ref, "--", tcpdump, "-c", "1", "-l", "-n", "-i", iface, "udp", "port", "47123")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	listening := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "listening on") {
				listening <- true
				said = true
			}
		}
		if !said {
			listening <- false
		}
		done <- cmd.Wait()
	}()
	if !<-listening {
		t.Fatalf("tcpdump did not start: %v", <-done)
	}
	send := func() error {
		conn, err := net.Dial("udp", net.JoinHostPort(dst, "47123"))
		if err != nil {
			return err
		}
		defer conn.Close()
		_, err = conn.Write([]byte("nsx-debug"))
		return err
	}
	if iface == "lo" {
		pinned, err := target.PinPID(c.pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer pinned.Close()
		host := send
		send = func() error { return nsenter.Do(pinned, namespace.SetOf(namespace.Net), host) }
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(60 * time.Second)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("tcpdump: %v", err)
			}
			if !strings.Contains(out.String(), dst+".47123") || !strings.Contains(out.String(), "UDP") {
				t.Errorf("tcpdump captured %q, want a UDP packet to %s.47123", out.String(), dst)
			}
			return
		case <-tick.C:
			if err := send(); err != nil {
				t.Fatalf("send to %s: %v", dst, err)
			}
		case <-giveUp:
			cmd.Process.Kill()
			t.Fatalf("tcpdump captured nothing; output %q", out.String())
		}
	}
}

var linkName = regexp.MustCompile(`^\d+: ([^:@]+)`)

// linkNames are the interface names of `ip -o link`, sorted.
func linkNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if m := linkName.FindStringSubmatch(l); m != nil {
			names = append(names, m[1])
		}
	}
	sort.Strings(names)
	return names
}

func runOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(out)
}

// A target with its own user namespace (and every other kind, time
// included): the program is root in it only, and /target stays locked
// read-only, yet --rw writes land.
func TestDebugUserNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	fx := testutil.AllKinds(t)
	ref := strconv.Itoa(fx.PID)
	before := testutil.Mountinfo(t, fx.PID)

	kinds := []string{"uts", "ipc", "net", "pid", "cgroup", "user", "time"}
	got := strings.Split(strings.TrimSpace(debugOK(t, ref, "--", "sh", "-c", "for k in "+strings.Join(kinds, " ")+"; do readlink /proc/self/ns/$k; done")), "\n")
	for i, k := range kinds {
		if i >= len(got) || got[i] != fx.NS(t, k) {
			t.Errorf("%s: got %v, want the target's %s", k, got, fx.NS(t, k))
		}
	}
	if got := debugOK(t, ref, "--", "ps", "-e", "-o", "pid=,comm="); len(strings.Split(strings.TrimSpace(got), "\n")) != 2 || !strings.Contains(got, "1 sleep") {
		t.Errorf("ps -e in the target's PID namespace: %q", got)
	}
	if got := strings.Fields(debugOK(t, ref, "--", "sh", "-c", "id -u; cat /proc/self/uid_map")); len(got) != 4 || got[0] != "0" || got[1] != "0" || got[2] != strconv.Itoa(os.Getuid()) {
		t.Errorf("credentials: %q, want root mapped to the caller", got)
	}
	r := debugRun(t, ref, "--", "sh", "-c", "touch /target/tmp/nsx-debug-ro")
	if r.code == 0 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("write to /target: exit %d, %q; want EROFS", r.code, r.stderr)
	}
	// Root of the target's user namespace may mount in its own mount
	// namespace but cannot lift the read-only lock of /target.
	r = debugRun(t, ref, "--", "sh", "-c", "mount -t tmpfs nsx-debug-probe /mnt && mount -o remount,rw /target")
	if r.code == 0 {
		t.Errorf("remount of /target read-write succeeded in the target's user namespace")
	}
	if r := debugRun(t, ref, "--", "sh", "-c", "mount -t tmpfs nsx-debug-probe /mnt && echo ok"); r.stdout != "ok\n" {
		t.Errorf("root of the target's user namespace cannot mount in its debug namespace: %d %q", r.code, r.stderr)
	}
	// Under the target's /proc lies a locked empty cover, not the host's.
	if r := debugRun(t, ref, "--", "sh", "-c", "umount /proc || exit 3; n=$(ls -A /proc | wc -l); umount /proc 2>/dev/null && exit 4; echo $n"); r.code != 0 || r.stdout != "0\n" {
		t.Errorf("beneath the debug /proc: exit %d, %q %q; want an empty cover that stays", r.code, r.stdout, r.stderr)
	}
	probe := fmt.Sprintf("/proc/%d/root/tmp/nsx-debug-rw", fx.PID)
	if _, err := os.Lstat(probe); err == nil {
		t.Fatalf("%s exists before the --rw write", probe)
	}
	debugOK(t, "--rw", ref, "--", "sh", "-c", "echo x > /target/tmp/nsx-debug-rw")
	if _, err := os.Lstat(probe); err != nil {
		t.Errorf("the --rw write did not land in the target: %v", err)
	}
	os.Remove(probe)
	if diff := testutil.MountsChanged(t, fx.PID, before); diff != "" {
		t.Errorf("the target's mountinfo changed:\n%s", diff)
	}
}

// A container in the host's PID namespace is debugged in the host's: /proc
// shows the host's processes, and the rest is the container's.
func TestDebugHostPID(t *testing.T) {
	shellLessImage(t)
	name := enginetest.Name("nsx-debug-hp")
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	enginetest.Run(t, "docker", "run", "-d", "--pid", "host", "--name", name, debugImage, "/busybox", "sleep", "3600")
	pid := enginetest.InspectPID(t, "docker", name)
	got := strings.Fields(debugOK(t, "docker:"+name, "--", "sh", "-c", "readlink /proc/self/ns/pid /proc/self/ns/net; cat /proc/1/comm"))
	if len(got) != 3 || got[0] != enginetest.NSLink(t, os.Getpid(), "pid") || got[1] != enginetest.NSLink(t, pid, "net") {
		t.Errorf("host PID namespace target: %q", got)
	}
	if comm, err := os.ReadFile("/proc/1/comm"); err != nil || len(got) == 3 && got[2] != strings.TrimSpace(string(comm)) {
		t.Errorf("/proc/1 is %q, want the host's %q", got[2], comm)
	}
}

// A target whose tree holds a bind mount of a mount namespace file (as
// unshare --mount=FILE leaves): the kernel refuses to attach such a tree in
// a newer namespace, so nsx copies it mount by mount without the file.
func TestDebugMountNamespaceFile(t *testing.T) {
	testutil.RequireRoot(t)
	nsenterBin := testutil.Oracle(t, "nsenter")
	fx := testutil.Start(t, []string{"--mount"},
		`mount -t tmpfs nsx-debug-fx /mnt && mount --make-private /mnt && touch /mnt/mntns && `+
			`mkdir /mnt/sub && mount -t tmpfs nsx-debug-sub /mnt/sub && echo hi > /mnt/sub/f && `+
			`echo ready > "$READY" && exec sleep 1000`)
	// A mount namespace file bound into the target's namespace by
	// util-linux unshare --mount=FILE run there: the new namespace is
	// newer than the target's, as the kernel requires.
	// The kernel allows the bind only when the new namespace's id is
	// above the target's, and on 6.18 ids are not always handed out in
	// creation order across CPUs (util-linux fails the same way about one
	// time in five here): a fresh namespace is tried until one qualifies.
	unshareBin := testutil.Oracle(t, "unshare")
	for try := 1; ; try++ {
		out, err := exec.Command(nsenterBin, "-t", strconv.Itoa(fx.PID), "-m", unshareBin, "--mount=/mnt/mntns", "true").CombinedOutput()
		if err == nil {
			break
		}
		if try == 30 || !strings.Contains(string(out), "Invalid argument") {
			t.Fatalf("bind the mount namespace file (try %d): %v %s", try, err, out)
		}
	}
	before := testutil.Mountinfo(t, fx.PID)
	if !strings.Contains(before, " /mnt/mntns ") {
		t.Fatalf("the fixture has no mount namespace file:\n%s", before)
	}
	got := debugOK(t, strconv.Itoa(fx.PID), "--", "sh", "-c",
		`cat /target/mnt/sub/f; test -f /target/mnt/mntns && echo file; grep -c " /target/mnt/mntns " /proc/self/mountinfo; touch /target/mnt/sub/x 2>&1 | grep -c "Read-only"`)
	if got != "hi\nfile\n0\n1\n" {
		t.Errorf("debug of a tree with a mount namespace file: %q, want its mounts (read-only) without the file's", got)
	}
	if diff := testutil.MountsChanged(t, fx.PID, before); diff != "" {
		t.Errorf("the target's mountinfo changed:\n%s", diff)
	}
}

// The target dies while the debug program runs: its PID namespace goes
// with its init, the kernel kills the program, and nsx ends the same way,
// leaving no process and no mount behind.
func TestDebugTargetDies(t *testing.T) {
	shellLessImage(t)
	name := enginetest.Name("nsx-debug-die")
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	enginetest.Run(t, "docker", "run", "-d", "--name", name, debugImage, "/busybox", "sleep", "3600")
	pid := enginetest.InspectPID(t, "docker", name)
	pidns := enginetest.NSLink(t, pid, "pid")
	cmd := exec.Command(debugNSX(t), "debug", "docker:"+name, "--", "sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Ready when the program runs in the container's PID namespace.
	program := 0
	for deadline := time.Now().Add(30 * time.Second); program == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the debug program did not start")
		}
		for _, c := range testutil.Children(cmd.Process.Pid) {
			if l, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c)); l == pidns && strings.TrimSpace(readFileOr(fmt.Sprintf("/proc/%d/comm", c))) == "sleep" {
				program = c
			}
		}
	}
	enginetest.Run(t, "docker", "kill", name)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("nsx debug outlived its target")
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("nsx ended with %v, want death by SIGKILL as its program", cmd.ProcessState)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", program)); err == nil {
		t.Errorf("the debug program %d is still there", program)
	}
	if m := testutil.Mountinfo(t, os.Getpid()); strings.Contains(m, "nsx-debug ") || strings.Contains(m, " /target ") {
		t.Errorf("a debug mount is left on the host:\n%s", m)
	}
}

func readFileOr(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
