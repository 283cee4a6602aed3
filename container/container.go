// Package container resolves a container reference such as docker:web1 to the
// host PID of the container's main process, so that every nsx command can
// take containers where util-linux takes PIDs.
//
// Each runtime has a resolver that asks the runtime's API first and falls
// back to what the runtime leaves on disk (state files) and to a scan of
// /proc cgroups, so that a stopped or unreachable daemon does not keep a user
// out of a running container. Resolve documents the reference forms and the
// checks made on the PID found.
//
// The API clients are hand-written and small: HTTP/1.1 for the Docker
// Engine API (which podman serves too), and unary gRPC over a minimal
// HTTP/2 client, with a hand-written protobuf codec, for containerd and the
// CRI, all on blocking unix sockets. nsx thereby links neither net/http nor
// gRPC: measured in a fresh process, gRPC's and the CRI module's package
// initialisers add 1.2 ms to every start of every nsx command, net/http and
// crypto/tls 0.5 ms, and Go's network poller 1 ms to the first exchange. The
// tests check the codecs against the published k8s.io/cri-api module and
// grpc-go, and every source against the real engines.
package container

import "strings"

// Container is a container's identity, the one value every nsx command
// shows a container by: resolvers return it inside Found, ls, ps and
// inspect get it from a process's cgroup.
type Container struct {
	// Runtime is "docker", "podman", "containerd" or "cri" ("lxc" for a
	// container only a cgroup path names).
	Runtime string `json:"runtime"`
	// ID is the container's full ID; Name its name when it has one, as a
	// reference takes it after "Runtime:" (CRI's NAMESPACE/POD/CONTAINER,
	// containerd's NAMESPACE/ID).
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Source says what identified it, e.g. "docker API", "docker state
	// file", "cgroup scan", "cgroup".
	Source string `json:"source,omitempty"`
}

// Ref returns the reference users type for the container: "docker:web1",
// or the runtime and the ID's first 12 characters when it has no name; ""
// for a nil container.
func (c *Container) Ref() string {
	if c == nil {
		return ""
	}
	n := c.Name
	if n == "" {
		n = shortID(c.ID)
	}
	return c.Runtime + ":" + n
}

// Matches reports whether a user's reference (with or without a runtime
// scheme; a name, a full ID or an ID prefix) names this container.
func (c *Container) Matches(ref string) bool {
	if c == nil || ref == "" {
		return false
	}
	if rt, rest, ok := SplitRef(ref); ok {
		if rt != c.Runtime {
			return false
		}
		ref = rest
	} else if rest, ok := strings.CutPrefix(ref, "lxc:"); ok {
		if c.Runtime != "lxc" {
			return false
		}
		ref = rest
	}
	if ref == "" {
		return false
	}
	return ref == c.Name || strings.HasPrefix(c.ID, ref)
}

// ShortID returns the container's ID as the runtimes' CLIs show it: the
// first 12 characters of a hex ID, any other ID (a containerd ID that is a
// name) whole; "" for a nil container.
func (c *Container) ShortID() string {
	if c == nil {
		return ""
	}
	return shortID(c.ID)
}

// shortID is the 12-character form of a hex ID, the one every runtime's
// CLI shows; anything else (a containerd ID that is a name) is returned as
// it is.
func shortID(id string) string {
	if len(id) > 12 && isHex(id) {
		return id[:12]
	}
	return id
}

// Found is a container resolved to a host process.
type Found struct {
	// PID is the host PID of the container's main process.
	PID int
	// StartTime is the process's start time in clock ticks after boot (field
	// 22 of /proc/PID/stat) as read when the PID was validated; it equals the
	// runtime's record (runc's init_process_start) when there is one. 0 when
	// unknown. Pinning the PID later must find the same start time.
	StartTime uint64
	// Container is who the process belongs to, and which source found it.
	Container
}

// Schemes are the runtime prefixes a reference may carry.
var Schemes = []string{"docker", "podman", "containerd", "cri"}

// SplitRef splits "docker:web1" into ("docker", "web1"). ok is false when s
// has no known scheme, which makes it a bare name.
func SplitRef(s string) (scheme, rest string, ok bool) {
	scheme, rest, found := strings.Cut(s, ":")
	if !found {
		return "", s, false
	}
	for _, k := range Schemes {
		if k == scheme {
			return scheme, rest, true
		}
	}
	return "", s, false
}
