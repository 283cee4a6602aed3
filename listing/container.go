package listing

import (
	"strconv"
	"strings"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/procfs"
)

// ContainerRef is a container found from a process's cgroup paths.
type ContainerRef struct {
	Runtime string `json:"runtime"`
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
}

// Ref is the reference users type: "docker:web1", or the runtime and the
// first 12 characters of the ID when the name is unknown.
func (c *ContainerRef) Ref() string {
	if c == nil {
		return ""
	}
	n := c.Name
	if n == "" {
		n = c.ID
		if len(n) > 12 {
			n = n[:12]
		}
	}
	return c.Runtime + ":" + n
}

// Matches reports whether a user's reference (with or without a runtime
// scheme; a name, a full ID or an ID prefix) names this container.
func (c *ContainerRef) Matches(ref string) bool {
	if c == nil || ref == "" {
		return false
	}
	if rt, rest, ok := strings.Cut(ref, ":"); ok {
		switch rt {
		case "docker", "podman", "containerd", "cri", "lxc":
			if rt != c.Runtime {
				return false
			}
			ref = rest
		}
	}
	if ref == "" {
		return false
	}
	return ref == c.Name || strings.HasPrefix(c.ID, ref)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// ContainerFromCgroup recognises the cgroup paths container runtimes create
// (docker, podman, containerd, CRI, LXC) in the text of /proc/PID/cgroup.
func ContainerFromCgroup(text string) *ContainerRef {
	lines, err := procfs.ParseCgroup(text)
	if err != nil {
		return nil
	}
	for _, l := range lines {
		if c := containerFromPath(l.Path); c != nil {
			return c
		}
	}
	return nil
}

func containerFromPath(p string) *ContainerRef {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		part := parts[i]
		prev := ""
		if i > 0 {
			prev = parts[i-1]
		}
		scope := strings.TrimSuffix(part, ".scope")
		switch {
		case prev == "docker" && isHex64(part):
			return &ContainerRef{Runtime: "docker", ID: part}
		case strings.HasPrefix(scope, "docker-") && isHex64(scope[7:]):
			return &ContainerRef{Runtime: "docker", ID: scope[7:]}
		case strings.HasPrefix(scope, "libpod-") && isHex64(scope[7:]):
			return &ContainerRef{Runtime: "podman", ID: scope[7:]}
		case strings.HasPrefix(scope, "cri-containerd-") && isHex64(scope[15:]):
			return &ContainerRef{Runtime: "cri", ID: scope[15:]}
		case strings.HasPrefix(scope, "crio-") && isHex64(scope[5:]):
			return &ContainerRef{Runtime: "cri", ID: scope[5:]}
		case strings.HasPrefix(scope, "nerdctl-") && isHex64(scope[8:]):
			return &ContainerRef{Runtime: "containerd", ID: scope[8:]}
		case strings.HasPrefix(part, "cri-containerd:") && isHex64(part[15:]):
			return &ContainerRef{Runtime: "cri", ID: part[15:]}
		case strings.HasPrefix(prev, "pod") && isHex64(part) && i >= 2 && strings.HasPrefix(parts[0], "kubepods"):
			return &ContainerRef{Runtime: "cri", ID: part}
		case i == 1 && (prev == "default" || prev == "k8s.io") && part != "":
			return &ContainerRef{Runtime: "containerd", ID: part}
		case prev == "lxc" && part != "":
			return &ContainerRef{Runtime: "lxc", ID: part, Name: part}
		case strings.HasPrefix(part, "lxc.payload.") && len(part) > 12:
			return &ContainerRef{Runtime: "lxc", ID: part[12:], Name: part[12:]}
		}
	}
	return nil
}

// withName names the container as the runtime recorded it, from the files
// the runtime leaves on disk (no daemon is asked): Docker's and podman's
// names, CRI's NAMESPACE/POD[/CONTAINER] (a containerd task of the k8s.io
// namespace becomes a cri: container), nerdctl's names.
func withName(c *ContainerRef) *ContainerRef {
	if c == nil || c.Name != "" {
		return c
	}
	switch c.Runtime {
	case "docker", "podman", "containerd", "cri":
		id := container.Identify(c.Runtime, c.ID)
		c.Runtime, c.Name = id.Runtime, id.Name
	}
	return c
}

// ContainerOf returns the container process pid belongs to, or nil.
func ContainerOf(pid int) *ContainerRef {
	b, err := procfs.ReadSmall(procfs.Root + "/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil
	}
	return containerOfCgroup(pid, b)
}

// containerOfCgroup is ContainerOf for a process whose cgroup file has been
// read already.
func containerOfCgroup(pid int, cgroup []byte) *ContainerRef {
	if c := withName(ContainerFromCgroup(string(cgroup))); c != nil {
		return c
	}
	// A rootless container without a cgroup of its own.
	if id, name, ok := container.PodmanByInitPID(pid); ok {
		return &ContainerRef{Runtime: "podman", ID: id, Name: name}
	}
	return nil
}
