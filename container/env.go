package container

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// getenv reads the environment; tests replace it.
var getenv = os.Getenv

func sortStrings(s []string) { slices.Sort(s) }

// withTimeout bounds ctx by the resolver's Timeout.
func (rs *Resolver) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := rs.Timeout
	if d <= 0 {
		d = DefaultTimeout
	}
	return context.WithTimeout(ctx, d)
}

// dockerEndpoint is the resolver's DockerHost, else DOCKER_HOST, else the rootful socket, else a rootless
// daemon's socket when only that exists.
func (rs *Resolver) dockerEndpoint() string {
	if rs.DockerHost != "" {
		return withUnixScheme(rs.DockerHost)
	}
	if h := getenv("DOCKER_HOST"); h != "" {
		return h
	}
	const def = "/var/run/docker.sock"
	if os.Geteuid() != 0 {
		if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
			if _, err := os.Stat(def); err != nil {
				p := filepath.Join(xdg, "docker.sock")
				if _, err := os.Stat(p); err == nil {
					return "unix://" + p
				}
			}
		}
	}
	return "unix://" + def
}

// podmanEndpoint is the resolver's PodmanHost, else CONTAINER_HOST, else the rootful or the user's podman
// service socket; "" when none exists (podman is daemonless and its service
// is often not running).
func (rs *Resolver) podmanEndpoint() string {
	if rs.PodmanHost != "" {
		return withUnixScheme(rs.PodmanHost)
	}
	if h := getenv("CONTAINER_HOST"); h != "" {
		return h
	}
	var socks []string
	if os.Geteuid() == 0 {
		socks = append(socks, "/run/podman/podman.sock")
	} else if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
		socks = append(socks, filepath.Join(xdg, "podman", "podman.sock"))
	}
	for _, s := range socks {
		if _, err := os.Stat(s); err == nil {
			return "unix://" + s
		}
	}
	return ""
}

// containerdSockets are the sockets containerd's native API is looked for
// on: the resolver's ContainerdAddress, else CONTAINERD_ADDRESS, else the usual places.
func (rs *Resolver) containerdSockets() []string {
	if a := rs.ContainerdAddress; a != "" {
		return []string{strings.TrimPrefix(a, "unix://")}
	}
	if a := getenv("CONTAINERD_ADDRESS"); a != "" {
		return []string{strings.TrimPrefix(a, "unix://")}
	}
	return []string{
		"/run/containerd/containerd.sock",
		"/run/docker/containerd/containerd.sock",
		"/run/k3s/containerd/containerd.sock",
		"/var/snap/microk8s/common/run/containerd.sock",
	}
}

// criSockets are the CRI endpoints to try, the explicit one alone when set.
func (rs *Resolver) criSockets() (socks []string, explicit bool) {
	if e := rs.CRIEndpoint; e != "" {
		return []string{strings.TrimPrefix(e, "unix://")}, true
	}
	if e := getenv("CONTAINER_RUNTIME_ENDPOINT"); e != "" {
		return []string{strings.TrimPrefix(e, "unix://")}, true
	}
	if e := crictlEndpoint("/etc/crictl.yaml"); e != "" {
		return []string{strings.TrimPrefix(e, "unix://")}, true
	}
	return []string{
		"/run/containerd/containerd.sock",
		"/run/crio/crio.sock",
		"/var/run/cri-dockerd.sock",
		"/run/k3s/containerd/containerd.sock",
	}, false
}

// crictlEndpoint reads runtime-endpoint from crictl's YAML config (a flat
// key: value file).
func crictlEndpoint(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "runtime-endpoint" {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// withUnixScheme makes a bare socket path a unix:// endpoint.
func withUnixScheme(ep string) string {
	if strings.HasPrefix(ep, "/") {
		return "unix://" + ep
	}
	return ep
}

// exists reports whether path exists (following symlinks).
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
