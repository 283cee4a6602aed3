package container

// The hand-written HTTP/1.1 and HTTP/2 (gRPC) clients against the
// reference servers: net/http, and grpc-go serving the published CRI API
// (what containerd and CRI-O are built on). No engine needed.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func listenUnix(t *testing.T) (net.Listener, string) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, sock
}

// A daemon that refuses unversioned paths (as Docker may in the future)
// gets the request again under the version it announces.
func TestEngineVersionNegotiation(t *testing.T) {
	l, sock := listenUnix(t)
	var paths []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Api-Version", "1.44")
		switch r.URL.Path {
		case "/v1.44/containers/web1/json":
			w.Write([]byte(`{"Id":"` + strings.Repeat("ab", 32) + `","Name":"/web1","State":{"Status":"running","Running":true,"Pid":1}}`))
		case "/containers/web1/json":
			w.WriteHeader(400)
			w.Write([]byte(`{"message":"client version 1.24 is too old. Minimum supported API version is 1.44"}`))
		default:
			w.WriteHeader(404)
			w.Write([]byte(`{"message":"No such container: x"}`))
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	api, err := newEngineAPI("docker", "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := api.inspect(ctx, "web1")
	if err != nil || c.Name != "/web1" || c.State.Pid != 1 {
		t.Fatalf("inspect: %+v, %v", c, err)
	}
	if strings.Join(paths, " ") != "/containers/web1/json /v1.44/containers/web1/json" {
		t.Errorf("paths %q", paths)
	}
	_, err = api.inspect(ctx, "x")
	if !isNoSuchReply(err) {
		t.Errorf("unknown container: %v", err)
	}
	// A pinned version goes straight to its path.
	paths = nil
	api.version = "1.44"
	if _, err := api.inspect(ctx, "web1"); err != nil || len(paths) != 1 {
		t.Errorf("pinned: %v %q", err, paths)
	}
}

// Chunked replies, large replies, and a daemon that hangs.
func TestH1Client(t *testing.T) {
	l, sock := listenUnix(t)
	big := strings.Repeat("x", 3<<20)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/chunked":
			for i := 0; i < 5; i++ {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
		case "/big":
			w.Write([]byte(big))
		case "/hang":
			time.Sleep(2 * time.Second)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	r, err := h1Get(ctx, "unix", sock, "d", "/chunked", 1<<20)
	if err != nil || string(r.Body) != "part0;part1;part2;part3;part4;" || r.Status != 200 {
		t.Fatalf("chunked: %+v %v", r, err)
	}
	r, err = h1Get(ctx, "unix", sock, "d", "/big", 4<<20)
	if err != nil || len(r.Body) != len(big) {
		t.Fatalf("big: %v", err)
	}
	if _, err := h1Get(ctx, "unix", sock, "d", "/big", 1<<20); err == nil {
		t.Error("reply over the limit accepted")
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = h1Get(tctx, "unix", sock, "d", "/hang", 1<<20)
	if err == nil || time.Since(start) > time.Second {
		t.Errorf("hung daemon: %v after %v", err, time.Since(start))
	}
	if describeTransport(err) != "timed out" {
		t.Errorf("hung daemon described as %q", describeTransport(err))
	}
	if _, err := h1Get(ctx, "unix", filepath.Join(t.TempDir(), "none.sock"), "d", "/", 100); describeTransport(err) != "no socket" {
		t.Errorf("missing socket: %v (%s)", err, describeTransport(err))
	}
}

// fakeCRI serves the published CRI API with canned replies.
type fakeCRI struct {
	runtime.UnimplementedRuntimeServiceServer
	n        atomic.Int32 // written by the test, read by the server's goroutines
	lastMD   atomic.Value
	statusFn func(*runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error)
}

func (f *fakeCRI) ListContainers(ctx context.Context, r *runtime.ListContainersRequest) (*runtime.ListContainersResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.lastMD.Store(md)
	out := &runtime.ListContainersResponse{}
	for i := 0; i < int(f.n.Load()); i++ {
		out.Containers = append(out.Containers, &runtime.Container{
			Id: fmt.Sprintf("%064x", i), PodSandboxId: r.GetFilter().GetPodSandboxId(),
			Metadata: &runtime.ContainerMetadata{Name: fmt.Sprintf("c%d", i)},
			State:    runtime.ContainerState_CONTAINER_RUNNING,
			Labels:   map[string]string{"padding": strings.Repeat("p", 200)},
		})
	}
	return out, nil
}

func (f *fakeCRI) ContainerStatus(ctx context.Context, r *runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error) {
	return f.statusFn(r)
}

func TestGRPCClientAgainstGRPCGo(t *testing.T) {
	l, sock := listenUnix(t)
	fake := &fakeCRI{}
	fake.n.Store(3)
	fake.statusFn = func(r *runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error) {
		switch r.ContainerId {
		case "ambig":
			return nil, status.Error(codes.Unknown, "ambiguous ID \"a\": multiple 100% matches")
		case "gone":
			return nil, status.Error(codes.NotFound, "an error occurred when try to find container \"gone\": not found")
		}
		return &runtime.ContainerStatusResponse{
			Status: &runtime.ContainerStatus{Id: r.ContainerId, State: runtime.ContainerState_CONTAINER_RUNNING},
			Info:   map[string]string{"info": `{"pid":4242}`, "verbose": fmt.Sprint(r.Verbose)},
		}, nil
	}
	srv := grpc.NewServer()
	runtime.RegisterRuntimeServiceServer(srv, fake)
	go srv.Serve(l)
	t.Cleanup(srv.Stop)

	c := newGRPCClient(sock)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	list, err := criListContainers(ctx, c, "sb1")
	if err != nil || len(list) != 3 || list[2].Name != "c2" || list[0].SandboxID != "sb1" {
		t.Fatalf("ListContainers: %+v %v", list, err)
	}
	st, err := criContainerStatus(ctx, c, "abc")
	if err != nil || st.ID != "abc" || st.Info["verbose"] != "true" || st.Info["info"] != `{"pid":4242}` {
		t.Fatalf("ContainerStatus: %+v %v", st, err)
	}
	_, err = criContainerStatus(ctx, c, "gone")
	if grpcCode(err) != grpcNotFound || !strings.Contains(err.Error(), `container "gone": not found`) {
		t.Errorf("NotFound: %v", err)
	}
	_, err = criContainerStatus(ctx, c, "ambig")
	if grpcCode(err) != grpcUnknown || !strings.Contains(err.Error(), "multiple 100% matches") {
		t.Errorf("percent-encoded message: %v", err)
	}
	_, err = c.call(ctx, criService+"Nope", nil, nil)
	if !isUnimplemented(err) {
		t.Errorf("unknown method: %v", err)
	}
	_, err = c.call(ctx, "/containerd.services.tasks.v1.Tasks/List", nsMD("default"), nil)
	if !isUnimplemented(err) {
		t.Errorf("unknown service: %v", err)
	}
	// Metadata reaches the server.
	if _, err := c.call(ctx, criService+"ListContainers", map[string]string{"containerd-namespace": "k8s.io"}, nil); err != nil {
		t.Fatal(err)
	}
	if md := fake.lastMD.Load().(metadata.MD); strings.Join(md.Get("containerd-namespace"), "") != "k8s.io" {
		t.Errorf("metadata %v", md)
	}

	// A reply of megabytes: many DATA frames, beyond the default 64 KiB
	// flow-control window.
	fake.n.Store(20000)
	list, err = criListContainers(ctx, c, "")
	if err != nil || len(list) != 20000 || list[19999].ID != fmt.Sprintf("%064x", 19999) {
		t.Fatalf("large ListContainers: %d %v", len(list), err)
	}
}

// A server that is not HTTP/2 (a Docker socket given as CRI endpoint) is a
// transport error, not a hang.
func TestGRPCClientAgainstHTTP1(t *testing.T) {
	l, sock := listenUnix(t)
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c := newGRPCClient(sock)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := criContainerStatus(ctx, c, "x")
	if err == nil || grpcCode(err) != -1 || errKind(err) != nil {
		t.Fatalf("HTTP/1 server: %v", err)
	}
	if !errors.Is(err, errH2) && !strings.Contains(err.Error(), "EOF") {
		t.Logf("error: %v", err)
	}
}
