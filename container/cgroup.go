package container

// What cgroup paths say about containers. Runtimes name a container's
// cgroup after its ID in a few ways (reference: container-runtimes.md §6.2):
//
//	/docker/<id>                               docker, cgroupfs driver
//	/system.slice/docker-<id>.scope            docker, systemd driver
//	/libpod_parent/libpod-<id>                 podman, cgroupfs
//	/machine.slice/libpod-<id>.scope/container podman, systemd
//	/kubepods/besteffort/pod<uid>/<id>         kubernetes, cgroupfs
//	.../cri-containerd-<id>.scope              kubernetes, systemd, containerd
//	...:cri-containerd:<id>                    the same without systemd
//	.../crio-<id>.scope                        kubernetes, CRI-O
//	/system.slice/nerdctl-<id>.scope           nerdctl, systemd
//	/<namespace>/<id>                          ctr and nerdctl, cgroupfs
//	/k8s.io/<id>                               containerd's CRI, no parent
//	/lxc/<name>, /lxc.payload.<name>           LXC
//
// Conmon (libpod-conmon-<id>, crio-conmon-<id>) and shims live outside the
// container's cgroup and are never taken for it.

import (
	"strings"

	"github.com/nsxproject/nsx/procfs"
)

// cgroupDecorations are the prefixes runtimes put before a container's ID
// in its cgroup's name, and the runtime each one means. A monitor's prefix
// (conmon's) maps to "-": its cgroup holds no container process.
var cgroupDecorations = []struct{ prefix, runtime string }{
	{"libpod-conmon-", "-"},
	{"crio-conmon-", "-"},
	{"docker-", "docker"},
	{"libpod-", "podman"},
	{"cri-containerd-", "cri"},
	{"crio-", "cri"},
	{"nerdctl-", "containerd"},
	{"lxc.payload.", "lxc"},
}

// cgroupComponent decodes one component of a cgroup path: the runtime its
// decoration names ("" when it has none, "-" for a monitor) and the ID or
// name after the decoration (the component itself when undecorated).
func cgroupComponent(c string) (runtime, id string) {
	c = strings.TrimSuffix(c, ".scope")
	// systemd's slice:prefix:name, written as is by a runtime that uses the
	// cgroupfs driver with a systemd-style cgroupsPath.
	if strings.Count(c, ":") == 2 {
		_, rest, _ := strings.Cut(c, ":")
		prefix, name, _ := strings.Cut(rest, ":")
		c = prefix + "-" + name
	}
	for _, d := range cgroupDecorations {
		if strings.HasPrefix(c, d.prefix) {
			return d.runtime, c[len(d.prefix):]
		}
	}
	return "", c
}

// cgroupNames reports whether a process with these cgroup lines belongs to
// the container with this ID: some component of some line's path names it
// (with or without a runtime's decoration, never a monitor's). It is the
// resolvers' check of a PID, looser than classifyCgroupPath because a
// container's cgroup parent may be anything (docker --cgroup-parent).
//
// It takes the text of /proc/PID/cgroup and walks it in place: it runs on
// every entry by name.
func cgroupNames(text, id string) bool {
	if id == "" {
		return false
	}
	for path := range procfs.CgroupPaths(text) {
		for path != "" {
			var c string
			c, path, _ = strings.Cut(path, "/")
			if c == "" {
				continue
			}
			if rt, cid := cgroupComponent(c); rt != "-" && cid == id {
				return true
			}
		}
	}
	return false
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	return isHex(s)
}

// isHex reports whether s is a non-empty string of lower-case hex digits,
// as container IDs and ID prefixes are.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// classifyCgroupPath says which container a cgroup path belongs to, judging
// by the decorations and parents of the deepest component that names one.
// Runtime is "" when a component holds a 64-hex ID but the path's shape
// does not tell whose (a custom cgroup parent); ID is "" when no component
// looks like a container.
func classifyCgroupPath(path string) Container {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	kube := false
	for _, p := range parts {
		if strings.HasPrefix(p, "kubepods") {
			kube = true
			break
		}
	}
	for i := len(parts) - 1; i >= 0; i-- {
		rt, id := cgroupComponent(parts[i])
		parent := ""
		if i > 0 {
			parent = parts[i-1]
		}
		switch {
		case rt == "-" || id == "":
			continue
		case rt == "lxc":
			return Container{Runtime: "lxc", ID: id, Name: id}
		case rt != "":
			if isHexID(id) {
				return Container{Runtime: rt, ID: id}
			}
			continue
		case parent == "lxc":
			// LXC's cgroupfs layout: /lxc/NAME.
			return Container{Runtime: "lxc", ID: id, Name: id}
		case !isHexID(id):
			// ctr and nerdctl with cgroupfs name the cgroup /NAMESPACE/ID,
			// and a containerd ID is any identifier.
			if i == 1 && (parent == "default" || parent == "k8s.io") && validContainerdID(id) {
				return Container{Runtime: "containerd", ID: id}
			}
			continue
		case parent == "docker":
			return Container{Runtime: "docker", ID: id}
		case parent == "libpod_parent":
			return Container{Runtime: "podman", ID: id}
		case kube || (i == 1 && parent == "k8s.io"):
			// The kubelet's pods, or containerd's CRI without a cgroup
			// parent (/k8s.io/ID).
			return Container{Runtime: "cri", ID: id}
		case i == 1 && validContainerdID(parent) && !strings.HasSuffix(parent, ".slice"):
			return Container{Runtime: "containerd", ID: id}
		}
		return Container{ID: id}
	}
	return Container{}
}

// FromCgroup says which container a process belongs to, from its
// /proc/PID/cgroup lines: the runtime ("docker", "podman", "containerd",
// "cri" or "lxc") and the ID its cgroup path names (reference:
// container-runtimes.md §6.2), with Source "cgroup" and no name (Identify
// finds it). ok is false when no line names a container of a known runtime.
func FromCgroup(lines []procfs.CgroupLine) (c Container, ok bool) {
	for _, l := range lines {
		if c := classifyCgroupPath(l.Path); c.Runtime != "" {
			c.Source = "cgroup"
			return c, true
		}
	}
	return Container{}, false
}

// scanCgroups reads every process's cgroup lines and groups the PIDs by the
// container ID that owner returns for them ("" means none).
func scanCgroups(owner func(lines []procfs.CgroupLine) string) (map[string][]int, error) {
	pids, err := procfs.ListPIDs()
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, pid := range pids {
		lines, err := procfs.ReadCgroup(pid)
		if err != nil {
			continue // gone, or not ours to read
		}
		if id := owner(lines); id != "" {
			out[id] = append(out[id], pid)
		}
	}
	return out, nil
}

// scanByIDPrefix finds the containers of runtime (any runtime when "")
// whose 64-hex ID starts with prefix, by cgroup.
func scanByIDPrefix(runtime, prefix string) (map[string][]int, error) {
	return scanCgroups(func(lines []procfs.CgroupLine) string {
		for _, l := range lines {
			c := classifyCgroupPath(l.Path)
			if isHexID(c.ID) && strings.HasPrefix(c.ID, prefix) && (runtime == "" || c.Runtime == runtime) {
				return c.ID
			}
		}
		return ""
	})
}

// pickInit chooses a container's main process among the processes of its
// cgroup: the one that is PID 1 in its own PID namespace, else (a PID
// namespace shared with a pod or the host) the oldest. It returns the PID and
// its start time, or 0 when every process vanished.
func pickInit(pids []int) (int, uint64) {
	best, bestStart := 0, uint64(0)
	for _, pid := range pids {
		st, err := procfs.ReadStat(pid)
		if err != nil || st.State == 'Z' {
			continue
		}
		if status, err := procfs.ReadStatus(pid); err == nil && len(status.NSpid) > 1 && status.NSpid[len(status.NSpid)-1] == 1 {
			return pid, st.StartTime
		}
		if best == 0 || st.StartTime < bestStart || (st.StartTime == bestStart && pid < best) {
			best, bestStart = pid, st.StartTime
		}
	}
	return best, bestStart
}

// fromCgroupScan resolves a 64-hex ID or ID prefix of runtime by scanning
// cgroups. It returns nil, nil when nothing matches.
func fromCgroupScan(ref, runtime, prefix string) (*Found, error) {
	if !isHex(prefix) {
		return nil, nil
	}
	byID, err := scanByIDPrefix(runtime, prefix)
	if err != nil {
		return nil, err
	}
	switch len(byID) {
	case 0:
		return nil, nil
	case 1:
	default:
		var c []string
		for id := range byID {
			c = append(c, runtime+":"+shortID(id))
		}
		sortStrings(c)
		return nil, ambiguous(ref, "ID prefix "+prefix, c)
	}
	for id, pids := range byID {
		pid, start := pickInit(pids)
		if pid == 0 {
			return nil, nil
		}
		return &Found{PID: pid, StartTime: start, Container: Container{Runtime: runtime, ID: id, Source: "cgroup scan"}}, nil
	}
	return nil, nil
}
