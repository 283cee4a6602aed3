package container

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeEnv replaces the environment the resolvers read for one test.
func fakeEnv(t *testing.T, env map[string]string) {
	old := getenv
	getenv = func(k string) string { return env[k] }
	t.Cleanup(func() { getenv = old })
}

// A Resolver's own endpoints win over the environment; the zero value
// falls back to it.
func TestResolverEndpointsBeatEnvironment(t *testing.T) {
	fakeEnv(t, map[string]string{
		"DOCKER_HOST":                "unix:///env/docker.sock",
		"CONTAINER_HOST":             "unix:///env/podman.sock",
		"CONTAINERD_ADDRESS":         "/env/containerd.sock",
		"CONTAINER_RUNTIME_ENDPOINT": "unix:///env/cri.sock",
	})
	var zero Resolver
	if got := zero.dockerEndpoint(); got != "unix:///env/docker.sock" {
		t.Errorf("zero docker endpoint %q", got)
	}
	if got := zero.podmanEndpoint(); got != "unix:///env/podman.sock" {
		t.Errorf("zero podman endpoint %q", got)
	}
	if got := zero.containerdSockets(); len(got) != 1 || got[0] != "/env/containerd.sock" {
		t.Errorf("zero containerd sockets %q", got)
	}
	if got, explicit := zero.criSockets(); !explicit || len(got) != 1 || got[0] != "/env/cri.sock" {
		t.Errorf("zero CRI sockets %q %v", got, explicit)
	}

	rs := Resolver{DockerHost: "/own/docker.sock", PodmanHost: "unix:///own/podman.sock",
		ContainerdAddress: "unix:///own/containerd.sock", CRIEndpoint: "unix:///own/cri.sock"}
	if got := rs.dockerEndpoint(); got != "unix:///own/docker.sock" {
		t.Errorf("docker endpoint %q", got)
	}
	if got := rs.podmanEndpoint(); got != "unix:///own/podman.sock" {
		t.Errorf("podman endpoint %q", got)
	}
	if got := rs.containerdSockets(); len(got) != 1 || got[0] != "/own/containerd.sock" {
		t.Errorf("containerd sockets %q", got)
	}
	if got, explicit := rs.criSockets(); !explicit || len(got) != 1 || got[0] != "/own/cri.sock" {
		t.Errorf("CRI sockets %q %v", got, explicit)
	}
}

// Two resolvers with different configurations used side by side do not
// see each other's settings (no package state): after a resolves, b still
// asks its own endpoint.
func TestResolversAreIndependent(t *testing.T) {
	fakeEnv(t, nil)
	a := &Resolver{DockerHost: "unix:///nonexistent-nsx-container-a.sock"}
	b := &Resolver{DockerHost: "unix:///nonexistent-nsx-container-b.sock"}
	const ref = "docker:nsx-no-such-container"
	if _, err := a.Resolve(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "container-a.sock") {
		t.Fatalf("resolver a: %v", err)
	}
	_, err := b.Resolve(context.Background(), ref)
	if err == nil || strings.Contains(err.Error(), "container-a.sock") || !strings.Contains(err.Error(), "container-b.sock") {
		t.Fatalf("resolver b after a: %v", err)
	}
	var zero Resolver
	if got := zero.dockerEndpoint(); strings.Contains(got, "nonexistent") {
		t.Fatalf("the zero resolver took another's endpoint: %q", got)
	}
}

func TestResolverTimeout(t *testing.T) {
	for _, tc := range []struct {
		set, want time.Duration
	}{{0, DefaultTimeout}, {-1, DefaultTimeout}, {250 * time.Millisecond, 250 * time.Millisecond}} {
		rs := Resolver{Timeout: tc.set}
		ctx, cancel := rs.withTimeout(context.Background())
		dl, ok := ctx.Deadline()
		cancel()
		if left := time.Until(dl); !ok || left > tc.want || left < tc.want-time.Second/2 {
			t.Errorf("Timeout %v: deadline in %v, want about %v", tc.set, left, tc.want)
		}
	}
}

// A nil *Resolver resolves as the zero value does: it reaches the endpoint
// logic, which reads the environment, and reports the daemon unreachable.
func TestNilResolver(t *testing.T) {
	fakeEnv(t, map[string]string{"DOCKER_HOST": "unix:///nonexistent-nsx.sock"})
	var rs *Resolver
	_, err := rs.Resolve(context.Background(), "docker:nsx-no-such-container")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("nil resolver: %v", err)
	}
}
