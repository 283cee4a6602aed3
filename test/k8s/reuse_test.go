package k8s

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A kept helper serves the next call, exits by itself once idle for --keep,
// and --cleanup removes what is left of it.
func TestKeptHelper(t *testing.T) {
	c := cluster(t)
	ns := c.namespace(t)
	c.pod(t, ns, "web", busybox("app", "true"))
	run := func(keep string) {
		t.Helper()
		r := c.plugin(t, c.kubeconfig, "-n", ns, "web", "--keep="+keep, "--", "hostname")
		if r.code != 0 || strings.TrimSpace(r.stdout) != "web" {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	}
	// The first call runs in a one-shot helper and leaves a kept one
	// starting (with the runtime's socket mounted) for the next calls.
	run("10s")
	var first []string
	if !eventually(30*time.Second, func() bool {
		first = c.helpers(t, ns)
		return len(first) == 1 && strings.HasSuffix(first[0], "=Running")
	}) {
		t.Fatalf("helpers after the first call: %v", first)
	}
	run("10s")
	if again := c.helpers(t, ns); len(again) != 1 || again[0] != first[0] {
		t.Fatalf("the second call did not reuse %v: %v", first, again)
	}
	// A session in progress keeps it: the helper sees the exec'd process.
	r := c.plugin(t, c.kubeconfig, "-n", ns, "web", "--keep=10s", "--", "sleep", "12")
	if r.code != 0 {
		t.Fatalf("sleep 12: exit %d, stderr %q", r.code, r.stderr)
	}
	if h := c.helpers(t, ns); len(h) != 1 || h[0] != first[0] {
		t.Fatalf("the helper did not last through a 12 s session: %v, first %v", h, first)
	}
	// Idle now: it exits by itself (the pod completes).
	name := strings.TrimSuffix(first[0], "=Running")
	if !eventually(60*time.Second, func() bool {
		h := c.helpers(t, ns)
		return len(h) == 1 && h[0] == name+"=Succeeded"
	}) {
		t.Fatalf("the kept helper did not exit after its idle time: %v", c.helpers(t, ns))
	}
	r = c.plugin(t, c.kubeconfig, "-n", ns, "--cleanup")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted 1 helper pod(s)") {
		t.Fatalf("--cleanup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	c.noHelperLeft(t, ns)
}

// --cleanup removes running kept helpers too.
func TestCleanupRunningHelper(t *testing.T) {
	c := cluster(t)
	ns := c.namespace(t)
	c.pod(t, ns, "web", busybox("app", "true"))
	r := c.plugin(t, c.kubeconfig, "-n", ns, "web", "--keep=10m", "--", "true")
	if r.code != 0 || len(c.helpers(t, ns)) != 1 {
		t.Fatalf("exit %d, stderr %q, helpers %v", r.code, r.stderr, c.helpers(t, ns))
	}
	r = c.plugin(t, c.kubeconfig, "-n", ns, "--cleanup")
	if r.code != 0 {
		t.Fatalf("--cleanup: exit %d, stderr %q", r.code, r.stderr)
	}
	c.noHelperLeft(t, ns)
}

// With the agent installed, calls exec into its pod: no helper pod is
// created, even with a long --keep. agent remove takes it all away.
func TestAgent(t *testing.T) {
	c := cluster(t)
	ns := c.namespace(t)
	c.pod(t, ns, "web", busybox("app", "true"))
	t.Cleanup(func() { c.plugin(t, c.kubeconfig, "agent", "remove") })
	r := c.plugin(t, c.kubeconfig, "agent", "install")
	if r.code != 0 {
		t.Fatalf("agent install: exit %d, stderr %q", r.code, r.stderr)
	}
	if !eventually(90*time.Second, func() bool {
		h := c.helpers(t, "kube-system")
		return len(h) == 1 && strings.HasSuffix(h[0], "=Running")
	}) {
		t.Fatalf("no running agent pod: %v", c.helpers(t, "kube-system"))
	}
	for i := 0; i < 2; i++ {
		r = c.plugin(t, c.kubeconfig, "-n", ns, "web", "--keep=10m", "--", "hostname")
		if r.code != 0 || strings.TrimSpace(r.stdout) != "web" {
			t.Fatalf("through the agent: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	}
	c.noHelperLeft(t, ns)
	r = c.plugin(t, c.kubeconfig, "agent", "remove")
	if r.code != 0 {
		t.Fatalf("agent remove: exit %d, stderr %q", r.code, r.stderr)
	}
	if out := c.mustKube(t, "", "get", "daemonsets", "-n", "kube-system", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("daemonsets left: %s", out)
	}
	if !eventually(30*time.Second, func() bool { return len(c.helpers(t, "kube-system")) == 0 }) {
		t.Errorf("agent pods left: %v", c.helpers(t, "kube-system"))
	}
}

// keptHelper makes a kept helper in ns (a pod web and one call) and returns
// it as NAMESPACE/NAME.
func (c *clusterEnv) keptHelper(t *testing.T, ns string) string {
	t.Helper()
	c.pod(t, ns, "web", busybox("app", "true"))
	r := c.plugin(t, c.kubeconfig, "-n", ns, "web", "--keep=10m", "--", "true")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	// The call ran in a one-shot helper, deleted without waiting, and
	// left the kept one starting: wait until that one alone is there.
	var h []string
	if !eventually(30*time.Second, func() bool {
		h = c.helpers(t, ns)
		return len(h) == 1 && strings.HasSuffix(h[0], "=Running")
	}) {
		t.Fatalf("helpers after the first call: %v", h)
	}
	return ns + "/" + strings.TrimSuffix(h[0], "=Running")
}

// --cleanup without -n removes the kept helpers of every namespace, and
// names each one.
func TestCleanupEveryNamespace(t *testing.T) {
	c := cluster(t)
	a, b := c.namespace(t), c.namespace(t)
	ha, hb := c.keptHelper(t, a), c.keptHelper(t, b)
	r := c.plugin(t, c.kubeconfig, "--cleanup")
	if r.code != 0 || !strings.Contains(r.stdout, "in all namespaces") {
		t.Fatalf("--cleanup: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for _, h := range []string{ha, hb} {
		if !strings.Contains(r.stdout, "deleted helper pod "+h+" (node "+c.node+", ") {
			t.Errorf("--cleanup did not name %s: %q", h, r.stdout)
		}
	}
	c.noHelperLeft(t, a)
	c.noHelperLeft(t, b)
}

// A user who may not list pods cluster-wide gets the helpers of the
// namespaces where they may, and the others are left alone.
func TestCleanupWhereAllowed(t *testing.T) {
	c := cluster(t)
	mine, other := c.namespace(t), c.namespace(t)
	hm, ho := c.keptHelper(t, mine), c.keptHelper(t, other)
	user := "nsx-k8s-cleaner-" + mine[len(mine)-6:]
	c.mustKube(t, "", "create", "role", "-n", mine, "helper-cleaner", "--verb=get,list,delete", "--resource=pods")
	c.mustKube(t, "", "create", "rolebinding", "-n", mine, "helper-cleaner", "--role=helper-cleaner", "--user="+user)
	// Cluster-wide objects outlive the namespaces: removed however the
	// test ends, even when creating one of them fails.
	t.Cleanup(func() {
		c.kube(t, "", "delete", "clusterrolebinding", user)
		c.kube(t, "", "delete", "clusterrole", user)
	})
	c.mustKube(t, "", "create", "clusterrole", user, "--verb=list", "--resource=namespaces")
	c.mustKube(t, "", "create", "clusterrolebinding", user, "--clusterrole="+user, "--user="+user)
	cfg, err := os.ReadFile(c.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	limited := strings.Replace(string(cfg), "    client-key:", "    as: "+user+"\n    client-key:", 1)
	kc := t.TempDir() + "/cleaner.kubeconfig"
	if err := os.WriteFile(kc, []byte(limited), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.plugin(t, kc, "--cleanup")
	if r.code != 0 || !strings.Contains(r.stdout, "deleted helper pod "+hm+" ") ||
		!strings.Contains(r.stdout, "deleted 1 helper pod(s) in 1 namespace(s)\n") || strings.Contains(r.stdout, ho) {
		t.Fatalf("--cleanup as %s: exit %d, stdout %q, stderr %q", user, r.code, r.stdout, r.stderr)
	}
	c.noHelperLeft(t, mine)
	if h := c.helpers(t, other); len(h) != 1 {
		t.Errorf("the helper the user may not see is gone: %v", h)
	}
}
