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

// Found is a container resolved to a host process.
type Found struct {
	// PID is the host PID of the container's main process.
	PID int
	// StartTime is the process's start time in clock ticks after boot (field
	// 22 of /proc/PID/stat) as read when the PID was validated; it equals the
	// runtime's record (runc's init_process_start) when there is one. 0 when
	// unknown. Pinning the PID later must find the same start time.
	StartTime uint64
	// Runtime is "docker", "podman", "containerd" or "cri".
	Runtime string
	// ID is the container's full ID; Name its name when it has one.
	ID   string
	Name string
	// Source says which source found the PID, e.g. "docker API",
	// "docker state file", "cgroup scan".
	Source string
}

// Ref returns the reference users type for the container, e.g. "docker:web1".
func (f *Found) Ref() string {
	n := f.Name
	if n == "" {
		n = f.ID
		if len(n) > 12 {
			n = n[:12]
		}
	}
	return f.Runtime + ":" + n
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
