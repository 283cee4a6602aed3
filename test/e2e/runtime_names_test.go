package e2e

// nsx ls names podman, CRI and containerd containers as a user types them
// (podman:NAME, cri:NAMESPACE/POD/CONTAINER, containerd:NS/ID), and a
// --container reference that names nothing is an error. Against the real
// engines; without them these tests skip, except under CI=true.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
)

// lsContainers runs nsx ls -n -r -o NS,TYPE,PID,CONTAINER [args] and
// returns, per PID and namespace type, the CONTAINER column.
func lsContainers(t *testing.T, args ...string) (map[string]string, ctrResult) {
	t.Helper()
	nsx := ctrNSX(t)
	r := ctrRun(t, nsx, append([]string{"ls", "-n", "-r", "-o", "NS,TYPE,PID,CONTAINER"}, args...)...)
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 {
			got[f[2]+"/"+f[1]] = f[3]
		} else if len(f) == 3 {
			got[f[2]+"/"+f[1]] = ""
		}
	}
	return got, r
}

func TestLsNamesContainers(t *testing.T) {
	enginetest.Require(t, "podman", "cri", "containerd")
	pname := enginetest.Name("nsx-runtime-p")
	pid64 := enginetest.RunPodman(t, pname)
	ppid := enginetest.InspectPID(t, "podman", pname)

	cri := enginetest.DialCRIT(t)
	podName := enginetest.Name("nsx-runtime-pod")
	pod := cri.RunPod(t, "nsx-runtime", podName)
	app := cri.CreateContainer(t, pod, "app", true)
	apid := cri.PID(t, app)

	cid := enginetest.Name("nsx-runtime-c")
	cpid := enginetest.RunCtr(t, "default", cid)

	got, r := lsContainers(t)
	if r.code != 0 {
		t.Fatalf("nsx ls: exit %d: %s", r.code, r.stderr)
	}
	want := map[string]string{
		strconv.Itoa(ppid) + "/mnt": "podman:" + pname,
		strconv.Itoa(apid) + "/mnt": "cri:nsx-runtime/" + podName + "/app",
		strconv.Itoa(cpid) + "/mnt": "containerd:default/" + cid,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("row %s: CONTAINER %q, want %q", k, got[k], v)
		}
	}
	// The pod's PID namespace belongs to its sandbox (pause is PID 1).
	sandboxRef := ""
	for k, v := range got {
		if strings.HasSuffix(k, "/pid") && strings.HasPrefix(v, "cri:nsx-runtime/"+podName) {
			sandboxRef = v
		}
	}
	if sandboxRef != "cri:nsx-runtime/"+podName {
		t.Errorf("the pod's PID namespace is owned by %q, want cri:nsx-runtime/%s", sandboxRef, podName)
	}

	// --container takes these references, with and without the scheme.
	for ref, pid := range map[string]int{
		"podman:" + pname:                     ppid,
		pname:                                 ppid,
		"cri:nsx-runtime/" + podName + "/app": apid,
		"nsx-runtime/" + podName + "/app":     apid,
		"containerd:default/" + cid:           cpid,
		"podman:" + pid64[:10]:                ppid,
	} {
		got, r := lsContainers(t, "--container", ref)
		if r.code != 0 {
			t.Errorf("nsx ls --container %s: exit %d: %s", ref, r.code, r.stderr)
			continue
		}
		if _, ok := got[strconv.Itoa(pid)+"/mnt"]; !ok {
			t.Errorf("nsx ls --container %s: no mnt row of PID %d in %v", ref, pid, got)
		}
		for k, v := range got {
			if !strings.HasPrefix(k, strconv.Itoa(pid)+"/") && !strings.HasPrefix(ref, "cri:") {
				t.Errorf("nsx ls --container %s: row %s (%s) of another process", ref, k, v)
			}
		}
	}
}

func TestLsContainerMatchingNothing(t *testing.T) {
	lsPrereq(t)
	for _, ref := range []string{"docker:nsx-runtime-nosuch", "nsx-runtime-nosuch", "cri:nsx-runtime/none/app"} {
		_, r := lsContainers(t, "--container", ref)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code != 1 || r.stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], ref) {
			t.Errorf("nsx ls --container %s: exit %d, stdout %q, stderr %q; want exit 1 and one line naming it", ref, r.code, r.stdout, r.stderr)
		}
	}
}
