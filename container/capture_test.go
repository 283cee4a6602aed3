package container

// NSX_CAPTURE_TESTDATA=1 go test -run TestCaptureTestdata ./container/
// refreshes the protobuf samples in testdata/ from the running engines
// (the JSON samples were saved with curl from the Docker and podman
// sockets, and copied from the engines' state directories).

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nsxproject/nsx/internal/enginetest"
)

// captureManifest records what the captured replies must decode to.
type captureManifest struct {
	CtrNamespace string `json:"ctr_namespace"`
	CtrID        string `json:"ctr_id"`
	CtrPID       int    `json:"ctr_pid"`
	CRIPodNS     string `json:"cri_pod_namespace"`
	CRIPod       string `json:"cri_pod"`
	CRIPodID     string `json:"cri_pod_id"`
	CRIID        string `json:"cri_id"`
	CRIPID       int    `json:"cri_pid"`
}

func TestCaptureTestdata(t *testing.T) {
	if os.Getenv("NSX_CAPTURE_TESTDATA") != "1" {
		// Not a check but a tool: reporting PASS here would claim a test
		// ran. It skips with the reason, in CI too (nothing is missing).
		t.Skip("a tool, not a check: set NSX_CAPTURE_TESTDATA=1 to refresh testdata from the engines")
	}
	enginetest.Require(t, "containerd", "cri")
	m := captureManifest{CtrNamespace: "default", CtrID: "nsx-sample"}
	m.CtrPID = enginetest.RunCtr(t, "default", m.CtrID)
	cri := enginetest.DialCRIT(t)
	m.CRIPodNS, m.CRIPod = "sample-ns", "sample-pod"
	m.CRIPodID = cri.RunPod(t, m.CRIPodNS, m.CRIPod)
	m.CRIID = cri.CreateContainer(t, m.CRIPodID, "app", true)
	m.CRIPID = cri.PID(t, m.CRIID)

	c := newGRPCClient("/run/containerd/containerd.sock")
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	save := func(file, method string, md map[string]string, req []byte) {
		reply, err := c.call(ctx, method, md, req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if err := os.WriteFile(filepath.Join("testdata", file), reply, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save("containerd-namespaces.pb", "/containerd.services.namespaces.v1.Namespaces/List", nil, nil)
	save("containerd-tasks.pb", "/containerd.services.tasks.v1.Tasks/List", nsMD("default"), nil)
	save("containerd-containers.pb", "/containerd.services.containers.v1.Containers/List", nsMD("default"),
		pbAppendString(nil, 1, "id=="+strconv.Quote(m.CtrID)))
	save("cri-list-containers.pb", criService+"ListContainers", nil, nil)
	save("cri-list-sandboxes.pb", criService+"ListPodSandbox", nil, nil)
	save("cri-container-status.pb", criService+"ContainerStatus", nil,
		pbAppendBool(pbAppendString(nil, 1, m.CRIID), 2, true))
	status, err := os.ReadFile("/proc/" + strconv.Itoa(m.CRIPID) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/proc-status-cri.txt", status, 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(containerdRuncNamespaceRoots("k8s.io")[0], m.CRIID, "state.json"), "runc-state-cri.json")
	copyFile("/proc/"+strconv.Itoa(m.CRIPID)+"/cgroup", "cgroup-cri-containerd.txt")
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile("testdata/capture.json", append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
