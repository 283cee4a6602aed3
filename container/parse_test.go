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

func TestCgroupSamples(t *testing.T) {
	for _, tc := range []struct {
		file, runtime, id string
	}{
		{"cgroup-docker-cgroupfs.txt", "docker", "11505e2c39b2ecbea4a1bcb539ec1c039cc7f0e58632aec326287153ddcfd28b"},
		{"cgroup-podman-cgroupfs.txt", "podman", "120f6e2fea2cfb5b39b4fa444004bcf0003bfaec89e3fe84ef0b93c26d1a441c"},
		{"cgroup-containerd-default.txt", "", ""},
		{"cgroup-cri-containerd.txt", "cri", ""},
	} {
		lines, err := procfs.ParseCgroup(string(readTestdata(t, tc.file)))
		if err != nil {
			t.Fatal(err)
		}
		rt, id, ok := FromCgroup(lines)
		if rt != tc.runtime || (tc.id != "" && id != tc.id) || ok != (tc.runtime != "") {
			t.Errorf("%s: FromCgroup = %q %q %v", tc.file, rt, id, ok)
		}
		if tc.runtime != "" && !cgroupNames(lines, id) {
			t.Errorf("%s: cgroupNames(%s) false", tc.file, id)
		}
	}
	lines, _ := procfs.ParseCgroup(string(readTestdata(t, "cgroup-containerd-default.txt")))
	if !cgroupNames(lines, "c1") || cgroupNames(lines, "c") || cgroupNames(lines, "") {
		t.Error("containerd /default/c1 naming")
	}
}

func TestCgroupPatterns(t *testing.T) {
	id := "3f2a9c1b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8"
	for _, tc := range []struct {
		path, runtime string
		names         bool
	}{
		{"/docker/" + id, "docker", true},
		{"/system.slice/docker-" + id + ".scope", "docker", true},
		{"/libpod_parent/libpod-" + id, "podman", true},
		{"/machine.slice/libpod-" + id + ".scope/container", "podman", true},
		{"/machine.slice/libpod-conmon-" + id + ".scope", "", false},
		{"/kubepods/besteffort/pod1234/" + id, "cri", true},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice/cri-containerd-" + id + ".scope", "cri", true},
		{"/kubepods-besteffort-pod12_34.slice:cri-containerd:" + id, "cri", true},
		{"/kubepods.slice/crio-" + id + ".scope", "cri", true},
		{"/kubepods.slice/crio-conmon-" + id + ".scope", "", false},
		{"/system.slice/nerdctl-" + id + ".scope", "containerd", true},
		{"/k8s.io/" + id, "cri", true},
		{"/default/" + id, "containerd", true},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id + ".scope/container", "podman", true},
		{"/", "", false},
	} {
		lines := []procfs.CgroupLine{{HierarchyID: 0, Path: tc.path}}
		rt, got, ok := FromCgroup(lines)
		wantOK := tc.names
		if ok != wantOK || rt != tc.runtime || (ok && got != id) {
			t.Errorf("%s: FromCgroup = %q %q %v", tc.path, rt, got, ok)
		}
		if cgroupNames(lines, id) != tc.names {
			t.Errorf("%s: cgroupNames = %v", tc.path, !tc.names)
		}
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
