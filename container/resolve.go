package container

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Resolver resolves container references with its own configuration: which
// sockets to ask and how long to wait. The zero value is ready to use and
// finds the runtimes the way their own CLIs do (environment variables,
// configuration files, the usual sockets). A Resolver holds no state and may
// be used from several goroutines.
type Resolver struct {
	// DockerHost is the Docker Engine API endpoint ("unix:///run/docker.sock"
	// or a socket path); "" means DOCKER_HOST, else the rootful socket, else
	// a rootless daemon's.
	DockerHost string
	// PodmanHost is podman's API service endpoint; "" means CONTAINER_HOST,
	// else the rootful or the caller's own podman socket.
	PodmanHost string
	// ContainerdAddress is containerd's native API socket; "" means
	// CONTAINERD_ADDRESS, else the usual places.
	ContainerdAddress string
	// CRIEndpoint is the CRI runtime endpoint (crictl's --runtime-endpoint);
	// "" means CONTAINER_RUNTIME_ENDPOINT, else /etc/crictl.yaml, else the
	// usual sockets.
	CRIEndpoint string
	// Timeout bounds each call to a runtime's API; 0 means 5 s. A daemon
	// that does not answer in time counts as unreachable and the daemonless
	// sources are tried.
	Timeout time.Duration
}

// DefaultTimeout is the Timeout of a Resolver that sets none.
const DefaultTimeout = 5 * time.Second

// Resolve is the zero Resolver's Resolve.
func Resolve(ctx context.Context, ref string) (*Found, error) {
	var r Resolver
	return r.Resolve(ctx, ref)
}

// Resolve resolves a reference ("docker:web1", "cri:ns/pod/ctr", or a bare
// name looked up in every runtime) to a validated running process.
//
// References:
//
//	docker:NAME|ID|ID-PREFIX
//	podman:NAME|ID|ID-PREFIX
//	containerd:[NAMESPACE/]ID     every namespace when none is given
//	cri:ID|ID-PREFIX
//	cri:NAMESPACE/POD[/CONTAINER] Kubernetes names
//	NAME                          tried in every runtime; one match wins
//
// Each runtime's API is asked first; when its daemon cannot be reached,
// the files it leaves on disk and a cgroup scan of /proc are. The PID found
// is checked to be alive, not a zombie, and in the container's cgroup (or
// to have the start time the runtime recorded). Errors are *Error, one line
// each, wrapping ErrNotFound, ErrAmbiguous, ErrNotRunning, ErrUnreachable,
// ErrPermission or ErrBadRef.
func (rs *Resolver) Resolve(ctx context.Context, ref string) (*Found, error) {
	if rs == nil {
		rs = &Resolver{}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	scheme, rest, ok := SplitRef(ref)
	if !ok {
		return rs.resolveBare(ctx, ref)
	}
	switch scheme {
	case "docker":
		return rs.resolveDocker(ctx, ref, rest)
	case "podman":
		return rs.resolvePodman(ctx, ref, rest)
	case "containerd":
		return rs.resolveContainerd(ctx, ref, rest)
	case "cri":
		return rs.resolveCRI(ctx, ref, rest)
	}
	return nil, newErr(ref, ErrBadRef, "unknown runtime "+scheme)
}

// bareOrder is the order runtimes are asked in, and their precedence when
// two of them report the same process (a Docker container is also a task in
// containerd's moby namespace; a CRI container one in k8s.io).
var bareOrder = []string{"docker", "podman", "cri", "containerd"}

// resolveBare looks name up in every runtime at once.
func (rs *Resolver) resolveBare(ctx context.Context, name string) (*Found, error) {
	if name == "" {
		return nil, newErr(name, ErrBadRef, "empty container reference")
	}
	if strings.ContainsAny(name, "/\x00") {
		return nil, newErr(name, ErrBadRef, "a bare container name cannot contain '/' (prefix it with docker:, podman:, containerd: or cri:)")
	}
	type result struct {
		f   *Found
		err error
	}
	results := make([]result, len(bareOrder))
	var wg sync.WaitGroup
	for i, rt := range bareOrder {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := rs.Resolve(ctx, rt+":"+name)
			if e, ok := err.(*Error); ok {
				e.Ref = name
			}
			results[i] = result{f, err}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Matches, one per process.
	var found []*Found
	seen := map[int]bool{}
	for _, r := range results {
		if r.f != nil && !seen[r.f.PID] {
			seen[r.f.PID] = true
			found = append(found, r.f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
	default:
		var cands []string
		for _, f := range found {
			cands = append(cands, candidateRef(f.Runtime, f.Name, f.ID))
		}
		return nil, ambiguous(name, "name", cands)
	}

	// No running match: the most telling failure wins.
	for _, kind := range []error{ErrAmbiguous, ErrNotRunning} {
		var hits []*Error
		for i, r := range results {
			if e, ok := r.err.(*Error); ok && e.Kind == kind {
				e.Detail = bareOrder[i] + ": " + e.Detail
				hits = append(hits, e)
			}
		}
		if len(hits) == 1 {
			return nil, hits[0]
		}
		if len(hits) > 1 {
			var d []string
			var cands []string
			for _, h := range hits {
				d = append(d, h.Detail)
				cands = append(cands, h.Candidates...)
			}
			return nil, &Error{Ref: name, Kind: kind, Detail: strings.Join(d, "; "), Candidates: cands}
		}
	}
	var parts []string
	var asked, answered []string
	allPerm := true
	for i, r := range results {
		e, ok := r.err.(*Error)
		if !ok {
			if r.err != nil {
				parts = append(parts, bareOrder[i]+": "+oneLine(r.err.Error()))
			}
			allPerm = false
			continue
		}
		asked = append(asked, bareOrder[i])
		// A name this runtime cannot even spell (a containerd ID with a
		// character Docker allows, say) is simply not one of its containers.
		if e.Kind == ErrNotFound || e.Kind == ErrBadRef {
			answered = append(answered, bareOrder[i])
			allPerm = false
			continue
		}
		if e.Kind != ErrPermission {
			allPerm = false
		}
		parts = append(parts, bareOrder[i]+": "+e.Detail)
	}
	kind := ErrNotFound
	switch {
	case len(answered) == 0 && allPerm:
		kind = ErrPermission
	case len(answered) == 0:
		kind = ErrUnreachable
	}
	detail := "no such container in " + strings.Join(asked, ", ")
	if len(answered) > 0 && len(answered) < len(asked) {
		detail = "no such container (" + strings.Join(answered, ", ") + " answered)"
	}
	if len(parts) > 0 {
		detail += "; " + strings.Join(parts, "; ")
	}
	return nil, newErr(name, kind, detail)
}
