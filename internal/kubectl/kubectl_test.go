package kubectl

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		mode    mode
		pod     string
		ns, ctr string
		nsx     []string
		program []string
		stdin   bool
		tty     bool
	}{
		{args: []string{"web", "--", "hostname"}, pod: "web", program: []string{"hostname"}},
		{args: []string{"-n", "prod", "web", "-c", "app", "--", "ss", "-tlnp"}, pod: "web", ns: "prod", ctr: "app", program: []string{"ss", "-tlnp"}},
		{args: []string{"-it", "pod/web"}, pod: "web", stdin: true, tty: true},
		{args: []string{"web", "--net", "--pid", "--read-only", "--", "ls"}, pod: "web", nsx: []string{"--net", "--pid", "--read-only"}, program: []string{"ls"}},
		{args: []string{"web", "--net=/run/netns/x", "--setuid", "1000", "--wd=/tmp"}, pod: "web", nsx: []string{"--net=/run/netns/x", "--setuid=1000", "--wd=/tmp"}},
		{args: []string{"node/n1", "--", "uptime"}, mode: modeNode, pod: "n1", program: []string{"uptime"}},
		{args: []string{"debug", "web", "--rw", "--", "cp", "a", "b"}, mode: modeDebug, pod: "web", nsx: []string{"--rw"}, program: []string{"cp", "a", "b"}},
		{args: []string{"agent", "install"}, mode: modeAgentInstall},
		{args: []string{"agent", "remove"}, mode: modeAgentRemove},
		{args: []string{"--cleanup", "-n", "x"}, mode: modeCleanup, ns: "x"},
	} {
		r, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if r.mode != tc.mode || r.pod != tc.pod || r.namespace != tc.ns || r.container != tc.ctr ||
			!slices.Equal(r.nsxArgs, tc.nsx) || !slices.Equal(r.program, tc.program) || r.stdin != tc.stdin || r.tty != tc.tty {
			t.Errorf("%q: got mode %d pod %q ns %q ctr %q nsx %q program %q i %v t %v", tc.args,
				r.mode, r.pod, r.namespace, r.container, r.nsxArgs, r.program, r.stdin, r.tty)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no pod given"},
		{[]string{"--n", "web"}, "ambiguous"},
		{[]string{"-x", "web"}, "invalid option"},
		{[]string{"web", "--keep", "soon"}, "invalid --keep"},
		{[]string{"web", "--timeout=0"}, "invalid --timeout"},
		{[]string{"agent", "start"}, "agent install|remove"},
		{[]string{"node/n1", "-c", "app"}, "-c makes no sense"},
		{[]string{"--cleanup", "web"}, "takes no pod"},
	} {
		_, err := parseArgs(tc.args)
		if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

func TestNsxCommand(t *testing.T) {
	tgt := &containerTarget{runtime: "containerd", id: "abc"}
	r, _ := parseArgs([]string{"web", "--net", "--", "ip", "a"})
	s := &session{req: r}
	got := s.nsxCommand(tgt, "unix:///var/run/containerd/containerd.sock")
	want := []string{"/nsx", "enter", "--runtime-endpoint=unix:///run/containerd/containerd.sock", "--net", "cri:abc", "--", "ip", "a"}
	if !slices.Equal(got, want) {
		t.Errorf("enter: got %q, want %q", got, want)
	}
	r, _ = parseArgs([]string{"node/n1"})
	s = &session{req: r}
	if got, want := s.nsxCommand(nil, ""), []string{"/nsx", "enter", "--target=1", "--all"}; !slices.Equal(got, want) {
		t.Errorf("node: got %q, want %q", got, want)
	}
	r, _ = parseArgs([]string{"debug", "web"})
	s = &session{req: r}
	got = s.nsxCommand(&containerTarget{runtime: "docker", id: "d1"}, "unix:///var/run/docker.sock")
	if want := []string{"/nsx", "debug", "--toolbox=/host", "docker:d1"}; !slices.Equal(got, want) {
		t.Errorf("debug: got %q, want %q", got, want)
	}
}

// The helper's security-relevant fields are what the issue asks for; a
// change to any of them must be deliberate.
func TestHelperPodSpec(t *testing.T) {
	spec := helperPodSpec("img:1", 90*time.Second, hostMounts("/var/lib/x"))
	c := spec.Containers[0]
	if !spec.HostPID || *spec.AutomountServiceAccountToken || *spec.EnableServiceLinks ||
		spec.RestartPolicy != corev1.RestartPolicyNever || !*c.SecurityContext.Privileged ||
		c.ImagePullPolicy != corev1.PullIfNotPresent || c.Image != "img:1" {
		t.Errorf("spec: %+v", spec)
	}
	if len(spec.Tolerations) != 1 || spec.Tolerations[0].Operator != corev1.TolerationOpExists || spec.Tolerations[0].Key != "" {
		t.Errorf("tolerations: %+v", spec.Tolerations)
	}
	if !slices.Equal(c.Args, []string{"helper-idle", "--idle=1m30s"}) {
		t.Errorf("args: %q", c.Args)
	}
	var paths []string
	for _, v := range spec.Volumes {
		paths = append(paths, v.HostPath.Path)
	}
	if !slices.Equal(paths, []string{"/run", "/var/lib/x"}) {
		t.Errorf("host paths: %q", paths)
	}
}

func TestSocketPaths(t *testing.T) {
	if got := socketDir("unix:///run/nsx-k8s/containerd/containerd.sock"); got != "/run/nsx-k8s/containerd" {
		t.Errorf("socketDir: %q", got)
	}
	if got := hostMounts("/run/containerd"); !slices.Equal(got, []string{"/run"}) {
		t.Errorf("hostMounts: %q", got)
	}
	if got := inHelperPath("/var/run/crio/crio.sock"); got != "unix:///run/crio/crio.sock" {
		t.Errorf("inHelperPath: %q", got)
	}
}

// The node hints survive between calls, are replaced when the pod moved,
// and the file stays bounded.
func TestNodeHints(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	s := &session{config: &rest.Config{Host: "https://k8s.example:6443"}, namespace: "web"}
	if _, ok := s.loadHint("a"); ok {
		t.Fatal("a hint in an empty cache")
	}
	s.storeHint("a", nodeHint{node: "n1", agent: true})
	s.storeHint("b", nodeHint{node: "n2"})
	if h, ok := s.loadHint("a"); !ok || h != (nodeHint{node: "n1", agent: true}) {
		t.Fatalf("a: %+v %v", h, ok)
	}
	s.storeHint("a", nodeHint{node: "n3"})
	if h, _ := s.loadHint("a"); h != (nodeHint{node: "n3"}) {
		t.Fatalf("a after the move: %+v", h)
	}
	other := &session{config: &rest.Config{Host: "https://other:6443"}, namespace: "web"}
	if _, ok := other.loadHint("a"); ok {
		t.Fatal("a hint of another cluster")
	}
	for i := range maxHints + 10 {
		s.storeHint(fmt.Sprint("p", i), nodeHint{node: "n"})
	}
	order, _ := readHints()
	if len(order) != maxHints {
		t.Fatalf("%d hints kept, want %d", len(order), maxHints)
	}
	if _, ok := s.loadHint("a"); ok {
		t.Fatal("the oldest hint was not dropped")
	}
}
