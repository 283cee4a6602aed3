package k8s

import (
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
	run("10s")
	first := c.helpers(t, ns)
	if len(first) != 1 || !strings.HasSuffix(first[0], "=Running") {
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
