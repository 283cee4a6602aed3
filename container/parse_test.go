package container

// Parsers against samples captured from the real engines (testdata/).

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/nsxproject/nsx/procfs"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDockerInspect(t *testing.T) {
	for _, tc := range []struct {
		file    string
		running bool
		pid     int
		errSub  string
	}{
		{"docker-inspect-running.json", true, 6743, ""},
		{"podman-compat-inspect.json", true, 13989, ""},
		{"docker-inspect-created.json", false, 0, "created but not running"},
		{"docker-inspect-exited.json", false, 0, "has exited (exit code 0)"},
		{"docker-inspect-paused.json", true, 0, "paused"},
	} {
		c, err := parseEngineContainer(readTestdata(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if len(c.ID) != 64 || c.Name == "" {
			t.Errorf("%s: ID %q Name %q", tc.file, c.ID, c.Name)
		}
		if c.State.Running != tc.running {
			t.Errorf("%s: Running %v", tc.file, c.State.Running)
		}
		if tc.pid != 0 && c.State.Pid != tc.pid {
			t.Errorf("%s: Pid %d, want %d", tc.file, c.State.Pid, tc.pid)
		}
		err = engineStateError("docker:x", c, "")
		if tc.errSub == "" {
			if err != nil && c.State.Running && !c.State.Paused {
				t.Errorf("%s: %v", tc.file, err)
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), tc.errSub) {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.errSub)
		}
	}
	if _, err := parseEngineContainer([]byte(`{"message":"x"}`)); err == nil {
		t.Error("reply without Id accepted")
	}
}

func TestParseDockerConfig(t *testing.T) {
	c, err := parseDockerConfig(readTestdata(t, "docker-config.v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "/t1" || c.State.Pid != 6743 || c.status() != "running" || !strings.HasPrefix(c.ID, "11505e2c39b2") {
		t.Errorf("%+v", c)
	}
	var created dockerConfig
	created.ID = "x"
	if created.status() != "created" {
		t.Errorf("zero config is %q", created.status())
	}
	created.State.StartedAt = "2026-11-28T15:41:38.57461034Z"
	if created.status() != "exited" {
		t.Errorf("started, not running: %q", created.status())
	}
}

func TestParseRuncState(t *testing.T) {
	for _, tc := range []struct {
		file  string
		pid   int
		start uint64
		label [2]string
	}{
		{"runc-state-docker.json", 6743, 43047, [2]string{"bundle", "/run/containerd/io.containerd.runtime.v2.task/moby/11505e2c39b2ecbea4a1bcb539ec1c039cc7f0e58632aec326287153ddcfd28b"}},
		{"runc-state-podman.json", 13989, 0, [2]string{"io.container.manager", "libpod"}},
		{"runc-state-containerd.json", 0, 0, [2]string{"bundle", "/run/containerd/io.containerd.runtime.v2.task/default/c1"}},
		{"runc-state-cri.json", 0, 0, [2]string{"io.kubernetes.cri.container-type", "container"}},
	} {
		s, err := parseRuncState(readTestdata(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if tc.pid != 0 && s.InitPID != tc.pid {
			t.Errorf("%s: init_process_pid %d", tc.file, s.InitPID)
		}
		if tc.start != 0 && s.InitStart != tc.start {
			t.Errorf("%s: init_process_start %d", tc.file, s.InitStart)
		}
		if s.InitStart == 0 {
			t.Errorf("%s: no init_process_start", tc.file)
		}
		if got := s.label(tc.label[0]); got != tc.label[1] {
			t.Errorf("%s: label %s = %q, want %q", tc.file, tc.label[0], got, tc.label[1])
		}
	}
	cri, _ := parseRuncState(readTestdata(t, "runc-state-cri.json"))
	ns, pod, ctr, ok := criLabels(cri)
	if !ok || ns != "sample-ns" || pod != "sample-pod" || ctr != "app" {
		t.Errorf("criLabels = %q %q %q %v", ns, pod, ctr, ok)
	}
	docker, _ := parseRuncState(readTestdata(t, "runc-state-docker.json"))
	if _, _, _, ok := criLabels(docker); ok {
		t.Error("a docker container taken for a CRI one")
	}
	if _, err := parseRuncState([]byte(`{"id":"x"}`)); err == nil {
		t.Error("state without init_process_pid accepted")
	}
	if _, err := parseCrunStatus([]byte(`{"pid":42,"process-start-time":777,"cgroup-path":"/x"}`)); err != nil {
		t.Error(err)
	}
}

func TestParsePodmanContainers(t *testing.T) {
	es, err := parsePodmanContainers(readTestdata(t, "podman-containers.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Names[0] != "p1" || !strings.HasPrefix(es[0].ID, "120f6e2fea2c") {
		t.Fatalf("%+v", es)
	}
	e, err := matchPodmanEntry("podman:p1", "p1", es)
	if err != nil || e == nil {
		t.Fatal(e, err)
	}
	e, err = matchPodmanEntry("podman:120f", "120f", es)
	if err != nil || e == nil {
		t.Fatal(e, err)
	}
	two := append(es, podmanStorageEntry{ID: "120f" + strings.Repeat("0", 60), Names: []string{"other"}})
	if _, err := matchPodmanEntry("podman:120f", "120f", two); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "podman:other (120f00000000)") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if e, err := matchPodmanEntry("podman:zzz", "zzz", two); e != nil || err != nil {
		t.Errorf("unknown: %v %v", e, err)
	}
}

func TestParseStorageConf(t *testing.T) {
	g, r := parseStorageConf(`
# comment
[storage]
driver = "overlay"
runroot = "/run/containers/storage"   # the run root
graphroot = '/srv/containers'
[storage.options]
graphroot = "/wrong"
`)
	if g != "/srv/containers" || r != "/run/containers/storage" {
		t.Errorf("graphroot %q runroot %q", g, r)
	}
	if g, r := parseStorageConf(""); g != "" || r != "" {
		t.Errorf("empty: %q %q", g, r)
	}
}

// Real /proc/PID/cgroup files, captured from the engines this project
// tests against.
func TestCgroupSamples(t *testing.T) {
	for _, tc := range []struct {
		file, runtime, id string
	}{
		{"cgroup-docker-cgroupfs.txt", "docker", "11505e2c39b2ecbea4a1bcb539ec1c039cc7f0e58632aec326287153ddcfd28b"},
		{"cgroup-podman-cgroupfs.txt", "podman", "120f6e2fea2cfb5b39b4fa444004bcf0003bfaec89e3fe84ef0b93c26d1a441c"},
		{"cgroup-containerd-default.txt", "containerd", "c1"},
		{"cgroup-cri-containerd.txt", "cri", "66e482107450a38be9a2c86a70da0825760748bc12d787cc8f8630fd7e8749ad"},
	} {
		text := string(readTestdata(t, tc.file))
		lines, err := procfs.ParseCgroup(text)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := FromCgroup(lines)
		if !ok || c.Runtime != tc.runtime || c.ID != tc.id || c.Source != "cgroup" {
			t.Errorf("%s: FromCgroup = %+v %v, want %s %s", tc.file, c, ok, tc.runtime, tc.id)
		}
		if !cgroupNames(text, tc.id) {
			t.Errorf("%s: cgroupNames(%s) false", tc.file, tc.id)
		}
	}
	text := string(readTestdata(t, "cgroup-containerd-default.txt"))
	if !cgroupNames(text, "c1") || cgroupNames(text, "c") || cgroupNames(text, "") {
		t.Error("containerd /default/c1 naming")
	}
}

// The one cgroup -> container classifier, on the paths every supported
// runtime and cgroup driver makes (container-runtimes.md §6.2). names is
// whether the resolvers' PID check (cgroupNames) accepts the path as the
// container's.
func TestCgroupPatterns(t *testing.T) {
	id := "3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
	for _, tc := range []struct {
		what, path, runtime, id string
		names                   bool
	}{
		{"docker, cgroupfs", "/docker/" + id, "docker", id, true},
		{"docker, systemd", "/system.slice/docker-" + id + ".scope", "docker", id, true},
		{"docker, custom nested cgroup parent", "/mygroup/sub/" + id, "", "", true},
		{"podman root, cgroupfs", "/libpod_parent/libpod-" + id, "podman", id, true},
		{"podman root, systemd", "/machine.slice/libpod-" + id + ".scope/container", "podman", id, true},
		{"podman root, systemd, no inner cgroup", "/machine.slice/libpod-" + id + ".scope", "podman", id, true},
		{"podman's conmon", "/machine.slice/libpod-conmon-" + id + ".scope", "", "", false},
		{"podman rootless, systemd", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope/container", "podman", id, true},
		{"podman rootless, app slice", "/user.slice/user-1000.slice/user@1000.service/app.slice/libpod-" + id + ".scope", "podman", id, true},
		{"kubelet cgroupfs, besteffort", "/kubepods/besteffort/pod1234-5678/" + id, "cri", id, true},
		{"kubelet cgroupfs, guaranteed", "/kubepods/pod1234-5678/" + id, "cri", id, true},
		{"kubelet systemd, containerd", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/cri-containerd-" + id + ".scope", "cri", id, true},
		{"kubelet systemd path under cgroupfs", "/kubepods-besteffort-pod12_34.slice:cri-containerd:" + id, "cri", id, true},
		{"kubelet systemd, CRI-O", "/kubepods.slice/kubepods-pod12_34.slice/crio-" + id + ".scope", "cri", id, true},
		{"CRI-O's conmon", "/kubepods.slice/crio-conmon-" + id + ".scope", "", "", false},
		{"kubelet systemd, cri-dockerd", "/kubepods.slice/kubepods-pod12_34.slice/docker-" + id + ".scope", "docker", id, true},
		{"containerd CRI, no parent", "/k8s.io/" + id, "cri", id, true},
		{"nerdctl, systemd", "/system.slice/nerdctl-" + id + ".scope", "containerd", id, true},
		{"nerdctl, cgroupfs", "/default/" + id, "containerd", id, true},
		{"ctr, cgroupfs, named", "/default/ctr1", "containerd", "ctr1", true},
		{"ctr in another namespace", "/buildkit/" + id, "containerd", id, true},
		{"lxc payload", "/lxc.payload.web", "lxc", "web", true},
		{"lxc v1", "/lxc/web", "lxc", "web", true},
		{"lxc monitor", "/lxc.monitor.web", "", "", false},
		{"host root", "/", "", "", false},
		{"a session", "/user.slice/user-0.slice/session-1.scope", "", "", false},
		{"a service", "/system.slice/cron.service", "", "", false},
		{"a hex-named service under a slice", "/system.slice/" + id, "", "", true},
		{"an unknown tree", "/process_api/cf56ad79", "", "", false},
	} {
		lines := []procfs.CgroupLine{{HierarchyID: 0, Path: tc.path}}
		c, ok := FromCgroup(lines)
		if ok != (tc.runtime != "") || c.Runtime != tc.runtime || c.ID != tc.id {
			t.Errorf("%s: FromCgroup(%s) = %+v %v, want %q %q", tc.what, tc.path, c, ok, tc.runtime, tc.id)
		}
		want := id
		if tc.id != "" {
			want = tc.id
		}
		if cgroupNames("0::"+tc.path+"\n", want) != tc.names {
			t.Errorf("%s: cgroupNames(%s) = %v", tc.what, tc.path, !tc.names)
		}
		if tc.runtime == "lxc" && c.Name != tc.id {
			t.Errorf("%s: lxc name %q", tc.what, c.Name)
		}
	}
	// On a hybrid host the first line that names a container wins; a
	// systemd name line does not hide the v1 controllers' path.
	lines, _ := procfs.ParseCgroup("12:pids:/docker/" + id + "\n1:name=systemd:/system.slice/containerd.service\n0::/\n")
	if c, ok := FromCgroup(lines); !ok || c.Runtime != "docker" || c.ID != id {
		t.Errorf("hybrid: %+v %v", c, ok)
	}
}

func TestContainerRefAndMatches(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	c := &Container{Runtime: "docker", ID: id, Name: "web1"}
	if c.Ref() != "docker:web1" || !c.Matches("docker:web1") || !c.Matches("web1") || !c.Matches("0123") ||
		c.Matches("podman:web1") || c.Matches("web") || c.Matches("") || c.Matches("docker:") {
		t.Fatal("Ref/Matches")
	}
	if r := (&Container{Runtime: "cri", ID: id}).Ref(); r != "cri:0123456789ab" {
		t.Errorf("unnamed Ref %q", r)
	}
	if r := (&Container{Runtime: "containerd", ID: "ctr-with-a-long-name"}).Ref(); r != "containerd:ctr-with-a-long-name" {
		t.Errorf("non-hex ID Ref %q", r)
	}
	l := &Container{Runtime: "lxc", ID: "web", Name: "web"}
	if !l.Matches("lxc:web") || l.Matches("docker:web") || !l.Matches("web") {
		t.Error("lxc Matches")
	}
	var none *Container
	if none.Ref() != "" || none.Matches("web1") {
		t.Error("nil container")
	}
}

func TestParseNSpid(t *testing.T) {
	st, err := procfs.ParseStatus(string(readTestdata(t, "proc-status-cri.txt")))
	if err != nil || len(st.NSpid) != 2 || st.NSpid[1] == 1 {
		t.Errorf("NSpid %v, %v (a pod's app container is not PID 1 in the pod)", st.NSpid, err)
	}
}

func TestContainerdReplies(t *testing.T) {
	var m captureManifest
	if err := json.Unmarshal(readTestdata(t, "capture.json"), &m); err != nil {
		t.Fatal(err)
	}
	nss, err := parseCtrNamespaces(readTestdata(t, "containerd-namespaces.pb"))
	if err != nil || !contains(nss, "default") || !contains(nss, "k8s.io") {
		t.Errorf("namespaces %q %v", nss, err)
	}
	tasks, err := parseCtrTasks(readTestdata(t, "containerd-tasks.pb"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tk := range tasks {
		if tk.ID == m.CtrID {
			found = true
			if int(tk.PID) != m.CtrPID || tk.Status != taskRunning {
				t.Errorf("task %+v, want PID %d running", tk, m.CtrPID)
			}
		}
	}
	if !found {
		t.Errorf("task %s not in %+v", m.CtrID, tasks)
	}
	ctrs, err := parseCtrContainers(readTestdata(t, "containerd-containers.pb"))
	if err != nil || len(ctrs) != 1 || ctrs[0].ID != m.CtrID || ctrs[0].Labels["io.containerd.image.config.stop-signal"] != "SIGTERM" {
		t.Errorf("containers %+v %v", ctrs, err)
	}
}

func TestCRIReplies(t *testing.T) {
	var m captureManifest
	if err := json.Unmarshal(readTestdata(t, "capture.json"), &m); err != nil {
		t.Fatal(err)
	}
	ctrs, err := parseCRIContainers(readTestdata(t, "cri-list-containers.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var app *criContainer
	for i := range ctrs {
		if ctrs[i].ID == m.CRIID {
			app = &ctrs[i]
		}
	}
	if app == nil || app.Name != "app" || app.SandboxID != m.CRIPodID || app.State != criRunning || app.CreatedAt <= 0 {
		t.Errorf("container %+v", app)
	}
	pods, err := parseCRISandboxes(readTestdata(t, "cri-list-sandboxes.pb"))
	if err != nil {
		t.Fatal(err)
	}
	var pod *criSandbox
	for i := range pods {
		if pods[i].ID == m.CRIPodID {
			pod = &pods[i]
		}
	}
	if pod == nil || pod.Name != m.CRIPod || pod.Namespace != m.CRIPodNS || pod.State != criSandboxReady || !strings.HasPrefix(pod.UID, "uid-") {
		t.Errorf("sandbox %+v", pod)
	}
	st, err := parseCRIStatus(readTestdata(t, "cri-container-status.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != m.CRIID || st.Name != "app" || st.State != criRunning {
		t.Errorf("status %+v", st)
	}
	info, err := parseCRIInfo(st.Info["info"])
	if err != nil || info.PID != m.CRIPID {
		t.Fatalf("info pid %v %v", info, err)
	}
	if got := criNameFrom(st.Labels, info.RuntimeSpec.Annotations, st.Name); got != m.CRIPodNS+"/"+m.CRIPod+"/app" {
		t.Errorf("criNameFrom = %q", got)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestPBWire(t *testing.T) {
	var b []byte
	b = pbAppendString(b, 1, "abc")
	b = pbAppendUint(b, 3, 300)
	b = pbAppendBool(b, 4, true)
	b = pbAppendMapEntry(b, 5, "k", "v")
	b = pbAppendMessage(b, 6, nil)
	b = pbAppendString(b, 7, "")
	b = pbAppendUint(b, 1<<20, 1<<63)
	var got []pbField
	if err := pbEach(b, func(f pbField) error { got = append(got, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || string(got[0].Bytes) != "abc" || got[1].Varint != 300 || got[2].Varint != 1 ||
		got[4].Num != 6 || len(got[4].Bytes) != 0 || got[5].Num != 1<<20 || got[5].Varint != 1<<63 {
		t.Fatalf("%+v", got)
	}
	k, v, err := pbMapEntry(got[3].Bytes)
	if k != "k" || v != "v" || err != nil {
		t.Errorf("map entry %q %q %v", k, v, err)
	}
	for _, bad := range [][]byte{{0x0a, 5, 'a'}, {0x08}, {0x0b}, {0x00, 0x01}, {0x09, 1, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if err := pbEach(bad, func(pbField) error { return nil }); err == nil {
			t.Errorf("%x accepted", bad)
		}
	}
}

func TestGRPCFraming(t *testing.T) {
	if _, err := grpcUnframe([]byte{0, 0, 0, 0, 2, 'a'}); err == nil {
		t.Error("short frame accepted")
	}
	if _, err := grpcUnframe([]byte{1, 0, 0, 0, 1, 'a'}); err == nil {
		t.Error("compressed frame accepted")
	}
	if b, err := grpcUnframe([]byte{0, 0, 0, 0, 1, 'a'}); err != nil || string(b) != "a" {
		t.Error(b, err)
	}
	if err := grpcStatus("5", "no%20such"); grpcCode(err) != grpcNotFound || !strings.Contains(err.Error(), "no such") {
		t.Error(err)
	}
	if err := grpcStatus("0", ""); err != nil {
		t.Error(err)
	}
	if !isUnimplemented(&grpcError{Code: grpcUnimplemented}) || isUnimplemented(&grpcError{Code: grpcNotFound, Message: "not found"}) {
		t.Error("isUnimplemented")
	}
}

func TestEngineHost(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{"unix:///var/run/docker.sock", "unix", "/var/run/docker.sock"},
		{"/run/podman/podman.sock", "unix", "/run/podman/podman.sock"},
		{"tcp://127.0.0.1:2375", "tcp", "127.0.0.1:2375"},
	} {
		n, a, err := parseEngineHost(tc.in)
		if err != nil || n != tc.network || a != tc.addr {
			t.Errorf("%s: %s %s %v", tc.in, n, a, err)
		}
	}
	for _, bad := range []string{"ssh://me@host", "unix://", "npipe:////./pipe/docker_engine", "tcp://"} {
		if _, _, err := parseEngineHost(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if !versionRefusal("client version 1.50 is too new. Maximum supported API version is 1.41") || versionRefusal("No such container: x") {
		t.Error("versionRefusal")
	}
	if !isAmbiguousReply(&apiError{500, "Multiple IDs found with provided prefix: 1"}) ||
		!isAmbiguousReply(&apiError{404, "more than one result for container ID 9: container already exists"}) ||
		!isNoSuchReply(&apiError{404, "No such container: nosuch"}) ||
		isNoSuchReply(&apiError{404, "more than one result for container ID 9"}) {
		t.Error("reply classification")
	}
}

func TestTransportErrors(t *testing.T) {
	perm := &os.SyscallError{Syscall: "connect", Err: syscall.EACCES}
	if transportError(perm) != ErrPermission || !strings.Contains(unreachableWhy(perm), "permission denied") {
		t.Error("EACCES is not a permission error")
	}
	refused := &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}
	if transportError(refused) != ErrUnreachable || !strings.Contains(unreachableWhy(refused), "connection refused") {
		t.Errorf("ECONNREFUSED: %s", unreachableWhy(refused))
	}
}

func TestRefSyntax(t *testing.T) {
	for _, tc := range []struct {
		rest, ns, id string
		ok           bool
	}{
		{"c1", "", "c1", true},
		{"default/c1", "default", "c1", true},
		{"k8s.io/abc", "k8s.io", "abc", true},
		{"a/b/c", "", "", false},
		{"", "", "", false},
		{"-x", "", "", false},
		{`x"y`, "", "", false},
	} {
		ns, id, err := splitContainerdRef("containerd:"+tc.rest, tc.rest)
		if (err == nil) != tc.ok || (tc.ok && (ns != tc.ns || id != tc.id)) {
			t.Errorf("%q: %q %q %v", tc.rest, ns, id, err)
		}
	}
	for _, tc := range []struct {
		rest string
		want criRef
		ok   bool
	}{
		{"abc", criRef{id: "abc"}, true},
		{"ns/pod", criRef{namespace: "ns", pod: "pod"}, true},
		{"ns/pod/ctr", criRef{namespace: "ns", pod: "pod", ctr: "ctr"}, true},
		{"ns//ctr", criRef{}, false},
		{"a/b/c/d", criRef{}, false},
		{"", criRef{}, false},
	} {
		r, err := parseCRIRef("cri:"+tc.rest, tc.rest)
		if (err == nil) != tc.ok || r != tc.want {
			t.Errorf("%q: %+v %v", tc.rest, r, err)
		}
	}
	for _, ref := range []string{"docker:", "podman:", "docker:a/b", "containerd:", "cri:", ""} {
		if _, err := Resolve(context.Background(), ref); !errors.Is(err, ErrBadRef) {
			t.Errorf("Resolve(%q): %v, want ErrBadRef", ref, err)
		}
	}
}

func TestCrictlYAML(t *testing.T) {
	p := filepath.Join(t.TempDir(), "crictl.yaml")
	os.WriteFile(p, []byte("runtime-endpoint: unix:///run/crio/crio.sock\nimage-endpoint: unix:///x\ntimeout: 2\n"), 0o644)
	if got := crictlEndpoint(p); got != "unix:///run/crio/crio.sock" {
		t.Errorf("%q", got)
	}
}

// parseCtrTasks decodes ListTasksResponse{repeated Process tasks = 1}:
// the resolver asks Tasks.Get, but the captured List reply checks
// parseCtrProcess on every task a real containerd reports.
func parseCtrTasks(b []byte) ([]ctrTask, error) {
	var out []ctrTask
	err := pbEach(b, func(f pbField) error {
		if f.Num != 1 || f.Type != wireBytes {
			return nil
		}
		t, err := parseCtrProcess(f.Bytes)
		if err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}
