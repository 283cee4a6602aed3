package enginetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRIImage is the test image as the CRI names it.
const CRIImage = "docker.io/library/" + Image

// CRI is a client of containerd's CRI plugin, made with the published CRI
// API module and gRPC (as kubelet and crictl are).
type CRI struct {
	conn *grpc.ClientConn
	RT   runtime.RuntimeServiceClient
	Img  runtime.ImageServiceClient

	podConfigs map[string]*runtime.PodSandboxConfig
}

// CRIEndpoint is the CRI socket tests use.
func CRIEndpoint() string {
	if e := os.Getenv("CONTAINER_RUNTIME_ENDPOINT"); e != "" {
		return e
	}
	return "unix:///run/containerd/containerd.sock"
}

// DialCRI connects to CRIEndpoint.
func DialCRI() (*CRI, error) {
	conn, err := grpc.NewClient(CRIEndpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return &CRI{conn: conn, RT: runtime.NewRuntimeServiceClient(conn), Img: runtime.NewImageServiceClient(conn),
		podConfigs: map[string]*runtime.PodSandboxConfig{}}, nil
}

// Close closes the connection.
func (c *CRI) Close() error { return c.conn.Close() }

func ctx10() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// Ping checks that the CRI runtime answers and has the test image.
func (c *CRI) Ping() error {
	ctx, cancel := ctx10()
	defer cancel()
	if _, err := c.RT.Version(ctx, &runtime.VersionRequest{}); err != nil {
		return err
	}
	st, err := c.Img.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: CRIImage}})
	if err != nil {
		return err
	}
	if st.Image == nil {
		return fmt.Errorf("CRI has no image %s (containerd namespace k8s.io)", CRIImage)
	}
	return nil
}

// DialCRIT is DialCRI for a test: it fails (or skips) t when the CRI
// runtime is not there, and closes the client at cleanup.
func DialCRIT(t testing.TB) *CRI {
	t.Helper()
	c, err := DialCRI()
	if err != nil {
		Unavailable(t, "CRI: %v", err)
	}
	if err := c.Ping(); err != nil {
		c.Close()
		Unavailable(t, "CRI: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// RunPod creates and starts a pod sandbox on the host network (no CNI
// needed) with a private PID namespace, and returns its ID; t's cleanup
// stops and removes it with its containers.
func (c *CRI) RunPod(t testing.TB, namespace, name string) string {
	t.Helper()
	uid := Name("uid")
	logDir := "/tmp/nsx-engines/pods/" + uid
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(logDir) })
	cfg := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: namespace, Uid: uid},
		LogDirectory: logDir,
		Labels: map[string]string{
			"io.kubernetes.pod.name":      name,
			"io.kubernetes.pod.namespace": namespace,
			"io.kubernetes.pod.uid":       uid,
		},
		Linux: &runtime.LinuxPodSandboxConfig{
			SecurityContext: &runtime.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtime.NamespaceOption{
					Network: runtime.NamespaceMode_NODE,
					Pid:     runtime.NamespaceMode_POD,
					Ipc:     runtime.NamespaceMode_POD,
				},
			},
		},
	}
	ctx, cancel := ctx10()
	defer cancel()
	resp, err := c.RT.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatalf("RunPodSandbox %s/%s: %v", namespace, name, err)
	}
	id := resp.PodSandboxId
	t.Cleanup(func() {
		ctx, cancel := ctx10()
		defer cancel()
		c.RT.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: id})
		c.RT.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: id})
	})
	c.podConfigs[id] = cfg
	return id
}

// CreateContainer creates a container named name in pod podID, running
// the Sleeper, and returns its ID. start says whether to start it.
func (c *CRI) CreateContainer(t testing.TB, podID, name string, start bool) string {
	t.Helper()
	pcfg := c.podConfigs[podID]
	if pcfg == nil {
		t.Fatalf("pod %s was not made by RunPod", podID)
	}
	cfg := &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: CRIImage},
		Command:  Sleeper,
		LogPath:  name + ".log",
		Linux:    &runtime.LinuxContainerConfig{},
	}
	ctx, cancel := ctx10()
	defer cancel()
	resp, err := c.RT.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pcfg})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", name, err)
	}
	id := resp.ContainerId
	t.Cleanup(func() {
		ctx, cancel := ctx10()
		defer cancel()
		c.RT.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: 0})
		c.RT.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: id})
	})
	if start {
		if _, err := c.RT.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: id}); err != nil {
			t.Fatalf("StartContainer %s: %v", name, err)
		}
	}
	return id
}

// StopContainer stops a container (it then shows as exited).
func (c *CRI) StopContainer(t testing.TB, id string) {
	t.Helper()
	ctx, cancel := ctx10()
	defer cancel()
	if _, err := c.RT.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: 0}); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
}

// PID returns a container's PID from a verbose ContainerStatus, as crictl
// inspect prints it.
func (c *CRI) PID(t testing.TB, id string) int {
	t.Helper()
	ctx, cancel := ctx10()
	defer cancel()
	st, err := c.RT.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	var info struct {
		PID int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.Info["info"]), &info); err != nil || info.PID <= 0 {
		t.Fatalf("ContainerStatus %s: no pid in info (%v): %.200s", id, err, strings.TrimSpace(st.Info["info"]))
	}
	return info.PID
}
