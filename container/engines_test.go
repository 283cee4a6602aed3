package container

// Tests against the real engines (scripts/engines.sh install start images).
// Without them these tests skip, except under CI=true where they fail.

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/procfs"
)

func resolveT(t *testing.T, ref string) *Found {
	t.Helper()
	return resolveWithT(t, &Resolver{}, ref)
}

// resolveWithT is resolveT with a configured resolver.
func resolveWithT(t *testing.T, rs *Resolver, ref string) *Found {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := rs.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", ref, err)
	}
	return f
}

// wantErr resolves ref, expecting an error of kind whose text holds every
// one of subs, on one line.
func wantErr(t *testing.T, ref string, kind error, subs ...string) *Error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := Resolve(ctx, ref)
	if err == nil {
		t.Fatalf("Resolve(%q) = %+v, want an error (%v)", ref, *f, kind)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("Resolve(%q): %v; want kind %v", ref, err, kind)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("Resolve(%q): error spans lines: %q", ref, msg)
	}
	if !strings.HasPrefix(msg, ref+": ") {
		t.Errorf("Resolve(%q): error %q does not start with the reference", ref, msg)
	}
	for _, s := range subs {
		if !strings.Contains(msg, s) {
			t.Errorf("Resolve(%q): error %q lacks %q", ref, msg, s)
		}
	}
	var e *Error
	errors.As(err, &e)
	return e
}

// checkFound asserts that f is the process the runtime reports (pid), with
// the same namespaces, a matching start time and the expected source.
func checkFound(t *testing.T, f *Found, runtime, id string, pid int, source string) {
	t.Helper()
	if f.Runtime != runtime || f.ID != id {
		t.Errorf("found %s %s, want %s %s", f.Runtime, f.ID, runtime, id)
	}
	if f.PID != pid {
		t.Errorf("PID %d, want %d (as the runtime reports)", f.PID, pid)
	}
	for _, k := range enginetest.Kinds {
		if a, b := enginetest.NSInode(t, f.PID, k), enginetest.NSInode(t, pid, k); a != b {
			t.Errorf("ns/%s of %d is %d, runtime's process %d has %d", k, f.PID, a, pid, b)
		}
	}
	st, err := procfs.ReadStat(f.PID)
	if err != nil {
		t.Fatal(err)
	}
	if f.StartTime != st.StartTime {
		t.Errorf("StartTime %d, /proc says %d", f.StartTime, st.StartTime)
	}
	if source != "" && f.Source != source {
		t.Errorf("Source %q, want %q", f.Source, source)
	}
}

// ---------------------------------------------------------------- docker

// dockerPair runs two containers, so that a resolver that finds "a"
// container rather than the one asked for is caught.
type dockerCtr struct {
	name, id string
	pid      int
}

func dockerPair(t *testing.T, prefix string) [2]dockerCtr {
	t.Helper()
	var cs [2]dockerCtr
	for i := range cs {
		cs[i].name = enginetest.Name(prefix)
		cs[i].id = enginetest.RunDocker(t, cs[i].name, "--network", "none")
		cs[i].pid = enginetest.InspectPID(t, "docker", cs[i].name)
	}
	if cs[0].pid == cs[1].pid || cs[0].id == cs[1].id {
		t.Fatalf("two containers with one process or ID: %+v", cs)
	}
	return cs
}

func TestDockerByNameAndID(t *testing.T) {
	enginetest.Require(t, "docker")
	for _, c := range dockerPair(t, "nsx-d") {
		name, id, pid := c.name, c.id, c.pid
		for _, ref := range []string{"docker:" + name, "docker:" + id[:12], "docker:" + id, name} {
			f := resolveT(t, ref)
			checkFound(t, f, "docker", id, pid, "docker API")
			if f.Name != name {
				t.Errorf("%s: Name %q, want %q", ref, f.Name, name)
			}
			if got := f.Ref(); got != "docker:"+name {
				t.Errorf("Ref() = %q", got)
			}
		}
		// The container has namespaces of its own.
		if enginetest.NSInode(t, pid, "net") == enginetest.NSInode(t, os.Getpid(), "net") {
			t.Error("container shares our net namespace")
		}
	}
}

func TestDockerNotRunning(t *testing.T) {
	enginetest.Require(t, "docker")
	created := enginetest.Name("nsx-dc")
	enginetest.CreateDocker(t, created)
	wantErr(t, "docker:"+created, ErrNotRunning, "created but not running")

	exited := enginetest.Name("nsx-dx")
	enginetest.RunDockerCmd(t, exited, []string{"--network", "none"}, []string{"sh", "-c", "exit 3"})
	enginetest.Run(t, "docker", "wait", exited)
	wantErr(t, "docker:"+exited, ErrNotRunning, "has exited (exit code 3)")

	paused := enginetest.Name("nsx-dp")
	enginetest.RunDocker(t, paused, "--network", "none")
	enginetest.Run(t, "docker", "pause", paused)
	wantErr(t, "docker:"+paused, ErrNotRunning, "paused")
	enginetest.Run(t, "docker", "unpause", paused)
	resolveT(t, "docker:"+paused)

	stopped := enginetest.Name("nsx-ds")
	enginetest.RunDocker(t, stopped, "--network", "none")
	enginetest.Run(t, "docker", "kill", stopped)
	wantErr(t, "docker:"+stopped, ErrNotRunning, "has exited (exit code 137)")
}

func TestDockerUnknownAndAmbiguous(t *testing.T) {
	enginetest.Require(t, "docker")
	wantErr(t, "docker:nsx-no-such-container", ErrNotFound, "no such container", "docker API")
	prefix, a, b := enginetest.SharedPrefix(t, func(name string) string { return enginetest.CreateDocker(t, name) })
	e := wantErr(t, "docker:"+prefix, ErrAmbiguous, "ID prefix "+prefix, a[:12], b[:12])
	if len(e.Candidates) < 2 {
		t.Errorf("candidates %q", e.Candidates)
	}
}

// The daemonless sources, each asked directly while the daemon runs.
func TestDockerDaemonlessSources(t *testing.T) {
	enginetest.Require(t, "docker")
	cs := dockerPair(t, "nsx-dl")
	for _, c := range cs {
		name, id, pid := c.name, c.id, c.pid
		for _, ref := range []string{name, id[:12]} {
			f, err := dockerFromFiles("docker:"+ref, ref)
			if err != nil || f == nil {
				t.Fatalf("dockerFromFiles(%s) = %v, %v", ref, f, err)
			}
			checkFound(t, f, "docker", id, pid, "docker state file")
			if f.Name != name {
				t.Errorf("Name %q", f.Name)
			}
		}
		f, err := fromRuncRoot("docker:x", "docker", dockerRuncRoot(), id[:12])
		if err != nil || f == nil {
			t.Fatalf("fromRuncRoot: %v, %v", f, err)
		}
		checkFound(t, f, "docker", id, pid, "runc state")
		f, err = fromCgroupScan("docker:x", "docker", id[:12])
		if err != nil || f == nil {
			t.Fatalf("fromCgroupScan: %v, %v", f, err)
		}
		checkFound(t, f, "docker", id, pid, "cgroup scan")
	}

	// A process inside the container (docker exec) does not confuse the
	// scan: the main process is PID 1 in the container.
	name, id, pid := cs[0].name, cs[0].id, cs[0].pid
	enginetest.Run(t, "docker", "exec", "-d", name, "sleep", "60")
	f, err := fromCgroupScan("docker:x", "docker", id)
	if err != nil || f == nil || f.PID != pid {
		t.Fatalf("fromCgroupScan with an exec'd process: %+v, %v (want PID %d)", f, err, pid)
	}
}

func TestDockerDaemonStopped(t *testing.T) {
	enginetest.RequireExclusive(t, "docker")
	name := enginetest.Name("nsx-dd")
	id := enginetest.RunDocker(t, name, "--network", "none")
	pid := enginetest.InspectPID(t, "docker", name)
	created := enginetest.Name("nsx-ddc")
	enginetest.CreateDocker(t, created)

	enginetest.StopDaemon(t, "dockerd")
	f := resolveT(t, "docker:"+name)
	checkFound(t, f, "docker", id, pid, "docker state file")
	f = resolveT(t, "docker:"+id[:10])
	checkFound(t, f, "docker", id, pid, "docker state file")
	f = resolveT(t, name)
	checkFound(t, f, "docker", id, pid, "docker state file")
	wantErr(t, "docker:"+created, ErrNotRunning, "created but not running", "unreachable")
	wantErr(t, "docker:nsx-no-such-container", ErrUnreachable, "docker daemon at /var/run/docker.sock is unreachable", "no daemonless source")
}

// DOCKER_HOST is honoured, and an endpoint that does not answer with a
// container the fallbacks do not know is "unreachable".
func TestDockerHost(t *testing.T) {
	enginetest.Require(t, "docker")
	name := enginetest.Name("nsx-dh")
	id := enginetest.RunDocker(t, name, "--network", "none")
	setEnv(t, map[string]string{"DOCKER_HOST": "unix:///var/run/docker.sock"})
	checkFound(t, resolveT(t, "docker:"+name), "docker", id, enginetest.InspectPID(t, "docker", name), "docker API")
	setEnv(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
	checkFound(t, resolveT(t, "docker:"+name), "docker", id, enginetest.InspectPID(t, "docker", name), "docker state file")
	wantErr(t, "docker:nsx-no-such-container", ErrUnreachable, "/nonexistent/docker.sock", "no socket")
	setEnv(t, map[string]string{"DOCKER_HOST": "ssh://user@host"})
	wantErr(t, "docker:"+name, ErrUnreachable, "ssh endpoints are not supported")
	// A pinned API version is used as given.
	setEnv(t, map[string]string{"DOCKER_API_VERSION": "1.24"})
	checkFound(t, resolveT(t, "docker:"+name), "docker", id, enginetest.InspectPID(t, "docker", name), "docker API")
}

// setEnv overrides the package's view of the environment for t.
func setEnv(t *testing.T, vars map[string]string) {
	old := getenv
	getenv = func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	t.Cleanup(func() { getenv = old })
}

// ---------------------------------------------------------------- podman

func TestPodmanByNameAndID(t *testing.T) {
	enginetest.Require(t, "podman", "podman-service")
	name := enginetest.Name("nsx-p")
	id := enginetest.RunPodman(t, name, "--network", "none")
	pid := enginetest.InspectPID(t, "podman", name)
	for _, ref := range []string{"podman:" + name, "podman:" + id[:12], "podman:" + id, name} {
		f := resolveT(t, ref)
		checkFound(t, f, "podman", id, pid, "podman API")
		if f.Name != name {
			t.Errorf("%s: Name %q", ref, f.Name)
		}
	}
	setEnv(t, map[string]string{"CONTAINER_HOST": "unix:///run/podman/podman.sock"})
	checkFound(t, resolveT(t, "podman:"+name), "podman", id, pid, "podman API")
	setEnv(t, map[string]string{"CONTAINER_HOST": "unix:///nonexistent/podman.sock"})
	checkFound(t, resolveT(t, "podman:"+name), "podman", id, pid, "podman state files")

	// podman's state files, asked directly.
	graph, run := podmanStorageRoots()
	for _, ref := range []string{name, id[:12]} {
		f, err := podmanFromFiles("podman:"+ref, ref, graph, run)
		if err != nil || f == nil {
			t.Fatalf("podmanFromFiles(%s): %v, %v", ref, f, err)
		}
		checkFound(t, f, "podman", id, pid, "podman state files")
	}
	f, err := fromCgroupScan("podman:x", "podman", id[:12])
	if err != nil || f == nil {
		t.Fatalf("fromCgroupScan: %v, %v", f, err)
	}
	checkFound(t, f, "podman", id, pid, "cgroup scan")
}

func TestPodmanNotRunningUnknownAmbiguous(t *testing.T) {
	enginetest.Require(t, "podman", "podman-service")
	created := enginetest.Name("nsx-pc")
	enginetest.CreatePodman(t, created)
	wantErr(t, "podman:"+created, ErrNotRunning, "created but not running")

	exited := enginetest.Name("nsx-px")
	enginetest.RunPodmanCmd(t, exited, []string{"--network", "none"}, []string{"sh", "-c", "exit 4"})
	enginetest.Run(t, "podman", "wait", exited)
	wantErr(t, "podman:"+exited, ErrNotRunning, "has exited (exit code 4)")

	wantErr(t, "podman:nsx-no-such-container", ErrNotFound, "no such container", "podman API")
	prefix, a, b := enginetest.SharedPrefix(t, func(name string) string { return enginetest.CreatePodman(t, name) })
	wantErr(t, "podman:"+prefix, ErrAmbiguous, a[:12], b[:12])
}

func TestPodmanServiceStopped(t *testing.T) {
	enginetest.RequireExclusive(t, "podman", "podman-service")
	name := enginetest.Name("nsx-ps")
	id := enginetest.RunPodman(t, name, "--network", "none")
	pid := enginetest.InspectPID(t, "podman", name)
	created := enginetest.Name("nsx-psc")
	enginetest.CreatePodman(t, created)
	enginetest.StopDaemon(t, "podman")
	for _, ref := range []string{"podman:" + name, "podman:" + id[:12], name} {
		checkFound(t, resolveT(t, ref), "podman", id, pid, "podman state files")
	}
	wantErr(t, "podman:"+created, ErrNotRunning, "not running")
	wantErr(t, "podman:nsx-no-such-container", ErrNotFound, "podman's state files")
}

// ---------------------------------------------------------------- containerd

func TestContainerd(t *testing.T) {
	enginetest.Require(t, "containerd")
	id := enginetest.Name("nsx-c")
	pid := enginetest.RunCtr(t, "default", id)
	for _, ref := range []string{"containerd:default/" + id, "containerd:" + id, "containerd:" + id[:len(id)-2], id} {
		f := resolveT(t, ref)
		checkFound(t, f, "containerd", id, pid, "containerd API")
		if f.Name != "default/"+id {
			t.Errorf("%s: Name %q", ref, f.Name)
		}
	}
	setEnv(t, map[string]string{"CONTAINERD_NAMESPACE": "default"})
	checkFound(t, resolveT(t, "containerd:"+id), "containerd", id, pid, "containerd API")
	setEnv(t, map[string]string{"CONTAINERD_NAMESPACE": "k8s.io"})
	wantErr(t, "containerd:"+id, ErrNotFound, "namespace k8s.io")
	setEnv(t, map[string]string{"CONTAINERD_ADDRESS": "/nonexistent.sock"})
	checkFound(t, resolveT(t, "containerd:"+id), "containerd", id, pid, "containerd state files")

	// Daemonless sources asked directly.
	f, err := containerdFromFiles("containerd:x", "", id)
	if err != nil || f == nil {
		t.Fatalf("containerdFromFiles: %v, %v", f, err)
	}
	checkFound(t, f, "containerd", id, pid, "containerd state files")
	f, err = containerdCgroupScan("containerd:x", "default", id)
	if err != nil || f == nil {
		t.Fatalf("containerdCgroupScan: %v, %v", f, err)
	}
	checkFound(t, f, "containerd", id, pid, "cgroup scan")
}

func TestContainerdErrors(t *testing.T) {
	enginetest.Require(t, "containerd")
	base := enginetest.Name("nsx-ca")
	enginetest.RunCtr(t, "default", base+"-1")
	enginetest.RunCtr(t, "default", base+"-2")
	wantErr(t, "containerd:"+base, ErrAmbiguous, "containerd:default/"+base+"-1", "containerd:default/"+base+"-2")
	wantErr(t, "containerd:default/nsx-no-such", ErrNotFound, "no such container in namespace default")
	wantErr(t, "containerd:nsx-no-such", ErrNotFound, "any namespace")
	wantErr(t, "containerd:bad/name/x", ErrBadRef, "invalid")

	created := enginetest.Name("nsx-cc")
	enginetest.CreateCtr(t, "default", created)
	wantErr(t, "containerd:"+created, ErrNotRunning, "has no task")

	stopped := enginetest.Name("nsx-cs")
	enginetest.RunCtr(t, "default", stopped)
	enginetest.Run(t, "ctr", "-n", "default", "tasks", "kill", "-s", "SIGKILL", stopped)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := Resolve(context.Background(), "containerd:"+stopped)
		if errors.Is(err, ErrNotRunning) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantErr(t, "containerd:"+stopped, ErrNotRunning, "has exited (exit status 137)")
}

// ---------------------------------------------------------------- CRI

func TestCRI(t *testing.T) {
	enginetest.Require(t, "cri")
	c := enginetest.DialCRIT(t)
	ns, pod := enginetest.Name("nsx-ns"), enginetest.Name("nsx-pod")
	podID := c.RunPod(t, ns, pod)
	id := c.CreateContainer(t, podID, "app", true)
	pid := c.PID(t, id)
	for _, ref := range []string{"cri:" + ns + "/" + pod + "/app", "cri:" + ns + "/" + pod, "cri:" + id[:12], "cri:" + id} {
		f := resolveT(t, ref)
		checkFound(t, f, "cri", id, pid, "CRI API")
		if want := ns + "/" + pod + "/app"; f.Name != want {
			t.Errorf("%s: Name %q, want %q", ref, f.Name, want)
		}
	}
	// The pod has its own PID namespace, not ours.
	if enginetest.NSInode(t, pid, "pid") == enginetest.NSInode(t, os.Getpid(), "pid") {
		t.Error("pod shares our PID namespace")
	}
	explicit := &Resolver{CRIEndpoint: "unix:///run/containerd/containerd.sock"}
	checkFound(t, resolveWithT(t, explicit, "cri:"+ns+"/"+pod+"/app"), "cri", id, pid, "CRI API")

	// runc's state, asked directly.
	for _, r := range []criRef{{namespace: ns, pod: pod, ctr: "app"}, {id: id[:12]}} {
		f, err := criFromFiles("cri:x", r)
		if err != nil || f == nil {
			t.Fatalf("criFromFiles(%+v): %v, %v", r, f, err)
		}
		checkFound(t, f, "cri", id, pid, "runc state")
	}

	f, err := fromCgroupScan("cri:x", "cri", id[:12])
	if err != nil || f == nil {
		t.Fatalf("fromCgroupScan: %v, %v", f, err)
	}
	checkFound(t, f, "cri", id, pid, "cgroup scan")

	// A second container makes the pod ambiguous without a container name.
	id2 := c.CreateContainer(t, podID, "side", true)
	wantErr(t, "cri:"+ns+"/"+pod, ErrAmbiguous, "cri:"+ns+"/"+pod+"/app", "cri:"+ns+"/"+pod+"/side")
	c.StopContainer(t, id2)
	wantErr(t, "cri:"+ns+"/"+pod+"/side", ErrNotRunning, "has exited")
	wantErr(t, "cri:"+id2[:12], ErrNotRunning, "has exited")
	wantErr(t, "cri:"+ns+"/"+pod+"/nosuch", ErrNotFound, "has no container nosuch")
	wantErr(t, "cri:"+ns+"/nosuch/app", ErrNotFound, "no pod nosuch")
	wantErr(t, "cri:a/b/c/d", ErrBadRef)

	// An explicit endpoint is the only one asked: nothing answers there, so
	// runc's state finds the container.
	nowhere := &Resolver{CRIEndpoint: "unix:///nonexistent-nsx-container.sock"}
	checkFound(t, resolveWithT(t, nowhere, "cri:"+ns+"/"+pod+"/app"), "cri", id, pid, "runc state")
}

func TestCRIAmbiguousPrefix(t *testing.T) {
	enginetest.Require(t, "cri")
	c := enginetest.DialCRIT(t)
	podID := c.RunPod(t, enginetest.Name("nsx-ns"), enginetest.Name("nsx-pod"))
	prefix, a, b := enginetest.SharedPrefix(t, func(name string) string { return c.CreateContainer(t, podID, name, false) })
	wantErr(t, "cri:"+prefix, ErrAmbiguous, a[:12], b[:12])
}

// containerd stopped: containerd's, CRI's and Docker's containers are still
// found (Docker's daemon keeps answering with live-restore).
func TestContainerdStopped(t *testing.T) {
	enginetest.RequireExclusive(t, "containerd", "cri")
	c := enginetest.DialCRIT(t)
	ns, pod := enginetest.Name("nsx-ns"), enginetest.Name("nsx-pod")
	podID := c.RunPod(t, ns, pod)
	criID := c.CreateContainer(t, podID, "app", true)
	criPID := c.PID(t, criID)
	id := enginetest.Name("nsx-cd")
	pid := enginetest.RunCtr(t, "default", id)

	enginetest.StopDaemon(t, "containerd")
	checkFound(t, resolveT(t, "containerd:"+id), "containerd", id, pid, "containerd state files")
	checkFound(t, resolveT(t, "containerd:default/"+id), "containerd", id, pid, "containerd state files")
	checkFound(t, resolveT(t, "cri:"+ns+"/"+pod+"/app"), "cri", criID, criPID, "runc state")
	checkFound(t, resolveT(t, "cri:"+criID[:12]), "cri", criID, criPID, "runc state")
	wantErr(t, "containerd:nsx-no-such", ErrUnreachable, "containerd is unreachable", "no daemonless source")
	wantErr(t, "cri:"+ns+"/"+pod+"/nosuch", ErrUnreachable, "CRI runtime unreachable")
}

// ---------------------------------------------------------------- bare names

func TestBareNames(t *testing.T) {
	enginetest.Require(t, "docker", "podman")
	name := enginetest.Name("nsx-b")
	did := enginetest.RunDocker(t, name, "--network", "none")
	checkFound(t, resolveT(t, name), "docker", did, enginetest.InspectPID(t, "docker", name), "docker API")
	pid := enginetest.RunPodman(t, name, "--network", "none")
	e := wantErr(t, name, ErrAmbiguous, "docker:"+name, "podman:"+name, did[:12], pid[:12])
	if len(e.Candidates) != 2 {
		t.Errorf("candidates %q", e.Candidates)
	}
	wantErr(t, "nsx-no-such-container", ErrNotFound, "no such container", "docker", "podman", "containerd", "cri")
	wantErr(t, "bad/name", ErrBadRef)
}

func TestValidateRejects(t *testing.T) {
	self := os.Getpid()
	if _, err := validate("x", self, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 0, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("our own process validated as a container: %v", err)
	}
	if _, err := validate("x", self, "whatever", 1, nil); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "started at tick") {
		t.Errorf("wrong start time accepted: %v", err)
	}
	st, _ := procfs.ReadStat(self)
	if s, err := validate("x", self, "whatever", st.StartTime, nil); err != nil || s != st.StartTime {
		t.Errorf("recorded start time rejected: %v", err)
	}
	if _, err := validate("x", 0, "id", 0, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("PID 0: %v", err)
	}
	if _, err := validate("x", 1<<30, "id", 0, nil); !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "has exited") {
		t.Errorf("missing PID: %v", err)
	}
}
