// Package k8s tests kubectl-nsx end to end against a real single-node
// Kubernetes: etcd, kube-apiserver, kubelet and a containerd, brought up by
// `make k8s-up` (scripts/k8s.sh). Nothing is mocked: pods run on the node,
// the plugin creates real helper pods, and the tests compare what the
// program inside reports with what the host's kernel says about the
// container. Without the cluster the tests skip, except under CI=true where
// they fail.
package k8s

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/testutil"
)

// testVersion is the version the test builds of nsx and kubectl-nsx carry:
// the plugin's default helper image is then the image built from this
// test's nsx, never a stale one.
const testVersion = "k8s-test"

const testImage = "ghcr.io/nsxproject/nsx:" + testVersion

// The kubelet's containerd (scripts/k8s.sh).
const k8sContainerdSock = "/run/nsx-k8s/containerd/containerd.sock"

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cluster is what every test needs, set up once per test binary.
type clusterEnv struct {
	kubectl    string
	kubeconfig string
	pluginBin  string
	nsx        string
	node       string
	err        error
	missing    string
}

var (
	setupOnce sync.Once
	env       clusterEnv
)

// cluster returns the cluster, the freshly built plugin and its image, or
// skips (fails under CI) when the cluster is not up.
func cluster(t *testing.T) *clusterEnv {
	t.Helper()
	testutil.RequireRoot(t)
	setupOnce.Do(setup)
	testutil.Require(t, env.missing == "", env.missing)
	if env.err != nil {
		t.Fatal(env.err)
	}
	return &env
}

func setup() {
	root := repoRoot()
	env.kubectl = filepath.Join(root, ".k8s", "bin", "kubectl")
	env.kubeconfig = filepath.Join(root, ".k8s", "admin.kubeconfig")
	if _, err := os.Stat(env.kubeconfig); err != nil {
		env.missing = "a Kubernetes cluster (make k8s-up): no " + env.kubeconfig
		return
	}
	if out, err := exec.Command(env.kubectl, "--kubeconfig", env.kubeconfig, "get", "--raw", "/readyz").CombinedOutput(); err != nil {
		env.missing = fmt.Sprintf("a Kubernetes cluster (make k8s-up): %v: %s", err, bytes.TrimSpace(out))
		return
	}
	if _, err := exec.LookPath("docker"); err != nil {
		env.missing = "docker (scripts/engines.sh) to build the helper image"
		return
	}
	out, err := exec.Command(env.kubectl, "--kubeconfig", env.kubeconfig, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}").Output()
	if err != nil || len(out) == 0 {
		env.err = fmt.Errorf("no node in the cluster: %v", err)
		return
	}
	env.node = string(out)
	dir := "/tmp/nsx-k8s-test"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		env.err = err
		return
	}
	env.nsx = filepath.Join(dir, "nsx")
	env.pluginBin = filepath.Join(dir, "kubectl-nsx")
	for _, b := range []struct{ out, pkg, versionVar string }{
		{env.nsx, "./cmd/nsx", "github.com/nsxproject/nsx/internal/cli.Version"},
		{env.pluginBin, "./cmd/kubectl-nsx", "github.com/nsxproject/nsx/internal/kubectl.Version"},
	} {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X "+b.versionVar+"="+testVersion, "-o", b.out, b.pkg)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			env.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
			return
		}
	}
	// The helper image, as `make image` builds it, imported into the
	// kubelet's containerd as a user would push it to a registry.
	// Other packages' tests stop and restart dockerd while these run
	// (go test runs packages in parallel): retry while it is away.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(2 * time.Second) {
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "k8s.sh"), "image", env.nsx, testImage)
		if out, err = cmd.CombinedOutput(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			env.err = fmt.Errorf("building %s: %v\n%s", testImage, err, out)
			return
		}
	}
	ls, err := exec.Command("ctr", "--address", k8sContainerdSock, "-n", "k8s.io", "images", "ls", "-q").Output()
	if err != nil || !strings.Contains(string(ls), testImage) {
		env.err = fmt.Errorf("%s is not in the kubelet's containerd after the import: %v", testImage, err)
	}
}

// kube runs kubectl as the cluster admin.
func (c *clusterEnv) kube(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(c.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *clusterEnv) mustKube(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := c.kube(t, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// namespace makes a namespace of the test's own, deleted (with its pods)
// at the end.
func (c *clusterEnv) namespace(t *testing.T) string {
	t.Helper()
	b := make([]byte, 3)
	rand.Read(b)
	ns := "nsx-k8s-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	ns = ns[:min(len(ns), 50)] + "-" + hex.EncodeToString(b)
	ns = strings.ReplaceAll(ns, "_", "-")
	c.mustKube(t, "", "create", "namespace", ns)
	t.Cleanup(func() {
		c.kube(t, "", "delete", "namespace", ns, "--wait=false")
		c.kube(t, "", "delete", "pods", "--all", "-n", ns, "--force", "--grace-period=0")
	})
	return ns
}

// pod starts a busybox pod on the node from YAML container entries and
// waits until it is Ready.
func (c *clusterEnv) pod(t *testing.T, ns, name, containers string) {
	t.Helper()
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
spec:
  nodeName: %s
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 0
  tolerations: [{operator: Exists}]
  containers:
%s`, name, ns, c.node, containers)
	c.mustKube(t, manifest, "apply", "-f", "-")
	c.mustKube(t, "", "wait", "-n", ns, "--for=condition=Ready", "pod/"+name, "--timeout=90s")
}

// busybox is a container entry that runs script, then sleeps.
func busybox(name, script string) string {
	return fmt.Sprintf(`  - name: %s
    image: docker.io/library/nsx-busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", %q]
`, name, script+"; exec sleep 100000")
}

// result is one plugin run.
type result struct {
	stdout, stderr string
	code           int
}

// plugin runs kubectl-nsx with the admin kubeconfig in $KUBECONFIG, as
// kubectl passes it to plugins.
func (c *clusterEnv) plugin(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	cmd := exec.Command(c.pluginBin, args...)
	cmd.Env = pluginEnv(kubeconfig)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("kubectl-nsx %q: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// pluginEnv is the plugin's environment: the kubeconfig in $KUBECONFIG,
// and its node hints (~/.cache/kubectl-nsx) in the test's directory, not
// the user's home.
func pluginEnv(kubeconfig string) []string {
	return append(os.Environ(), "KUBECONFIG="+kubeconfig, "XDG_CACHE_HOME=/tmp/nsx-k8s-test/cache")
}

// helpers lists the plugin's helper pods in ns (all phases).
func (c *clusterEnv) helpers(t *testing.T, ns string) []string {
	t.Helper()
	out := c.mustKube(t, "", "get", "pods", "-n", ns, "-l", "app.kubernetes.io/managed-by=kubectl-nsx",
		"-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}`)
	return strings.Fields(out)
}

func (c *clusterEnv) noHelperLeft(t *testing.T, ns string) {
	t.Helper()
	if h := c.helpers(t, ns); len(h) > 0 {
		t.Errorf("helper pods left in %s: %v", ns, h)
	}
}

// eventually polls cond every 100 ms for up to limit: for waiting on the
// cluster to reach a state, never to judge speed.
func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
