package container

// The containerd calls against grpc-go serving containerd's published API
// module (github.com/containerd/containerd/api): the filters reach the
// server as written, and the replies decode as the module encodes them.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	containers "github.com/containerd/containerd/api/services/containers/v1"
	namespaces "github.com/containerd/containerd/api/services/namespaces/v1"
	tasks "github.com/containerd/containerd/api/services/tasks/v1"
	"github.com/containerd/containerd/api/types/task"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type fakeContainerd struct {
	containers.UnimplementedContainersServer

	mu      sync.Mutex
	filters []string
	ns      []string
}

func (f *fakeContainerd) List(ctx context.Context, r *containers.ListContainersRequest) (*containers.ListContainersResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.filters = r.Filters
	f.ns = md.Get("containerd-namespace")
	f.mu.Unlock()
	return &containers.ListContainersResponse{Containers: []*containers.Container{
		{ID: "web1", Labels: map[string]string{"nerdctl/name": "web"}},
		{ID: "web10"},
	}}, nil
}

type fakeTasks struct {
	tasks.UnimplementedTasksServer
}

func (fakeTasks) Get(ctx context.Context, r *tasks.GetRequest) (*tasks.GetResponse, error) {
	if r.ContainerID != "web1" {
		return nil, status.Errorf(codes.NotFound, "no running task found: task %s not found: not found", r.ContainerID)
	}
	return &tasks.GetResponse{Process: &task.Process{ContainerID: "web1", ID: "web1", Pid: 4242, Status: task.Status_RUNNING, ExitStatus: 0}}, nil
}

func (f *fakeContainerd) nsList(ctx context.Context, r *namespaces.ListNamespacesRequest) (*namespaces.ListNamespacesResponse, error) {
	return &namespaces.ListNamespacesResponse{Namespaces: []*namespaces.Namespace{{Name: "default"}, {Name: "k8s.io", Labels: map[string]string{"a": "b"}}}}, nil
}

// namespacesServer adapts the fake to the Namespaces service (whose List
// collides with Containers' List).
type namespacesServer struct {
	namespaces.UnimplementedNamespacesServer
	f *fakeContainerd
}

func (n namespacesServer) List(ctx context.Context, r *namespaces.ListNamespacesRequest) (*namespaces.ListNamespacesResponse, error) {
	return n.f.nsList(ctx, r)
}

func TestContainerdCallsMatchPublishedAPI(t *testing.T) {
	l, sock := listenUnix(t)
	fake := &fakeContainerd{}
	srv := grpc.NewServer()
	containers.RegisterContainersServer(srv, fake)
	tasks.RegisterTasksServer(srv, fakeTasks{})
	namespaces.RegisterNamespacesServer(srv, namespacesServer{f: fake})
	go srv.Serve(l)
	t.Cleanup(srv.Stop)

	c := newGRPCClient(sock)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	nss, err := ctrListNamespaces(ctx, c)
	if err != nil || strings.Join(nss, ",") != "default,k8s.io" {
		t.Fatalf("Namespaces.List: %v %v", nss, err)
	}
	ctrs, err := ctrListContainers(ctx, c, "k8s.io", []string{"id==\"x.y\"", "id~=\"^x\\\\.y\""})
	if err != nil || len(ctrs) != 2 || ctrs[0].ID != "web1" || ctrs[0].Labels["nerdctl/name"] != "web" || ctrs[1].ID != "web10" {
		t.Fatalf("Containers.List: %+v %v", ctrs, err)
	}
	fake.mu.Lock()
	if strings.Join(fake.filters, " ") != `id=="x.y" id~="^x\\.y"` || strings.Join(fake.ns, "") != "k8s.io" {
		t.Errorf("the server got filters %q in namespace %q", fake.filters, fake.ns)
	}
	fake.mu.Unlock()
	tk, err := ctrGetTask(ctx, c, "default", "web1")
	if err != nil || tk == nil || tk.ID != "web1" || tk.PID != 4242 || tk.Status != taskRunning {
		t.Fatalf("Tasks.Get: %+v %v", tk, err)
	}
	if tk, err := ctrGetTask(ctx, c, "default", "web10"); err != nil || tk != nil {
		t.Fatalf("Tasks.Get of a container without a task: %+v %v", tk, err)
	}
}
