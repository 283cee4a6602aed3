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
//
// Conmon (libpod-conmon-<id>, crio-conmon-<id>) and shims live outside the
// container's cgroup and are never taken for it.

import (
	"strings"

	"github.com/nsxproject/nsx/procfs"
)

var cgroupIDPrefixes = []string{"docker-", "libpod-", "cri-containerd-", "crio-", "nerdctl-"}

var cgroupMonitorPrefixes = []string{"libpod-conmon-", "crio-conmon-"}

// cgroupComponentID returns the container ID a cgroup path component names,
// the component itself when it has no known decoration, or "" for a
// container monitor's cgroup.
func cgroupComponentID(c string) string {
	c = strings.TrimSuffix(c, ".scope")
	if i := strings.LastIndexByte(c, ':'); i >= 0 {
		c = c[i+1:]
	}
	for _, p := range cgroupMonitorPrefixes {
		if strings.HasPrefix(c, p) {
			return ""
		}
	}
	for _, p := range cgroupIDPrefixes {
		if strings.HasPrefix(c, p) {
			return c[len(p):]
		}
	}
	return c
}

// cgroupNames reports whether a process with these cgroup lines belongs to
// the container with this ID: some component of some line's path names it.
func cgroupNames(lines []procfs.CgroupLine, id string) bool {
	if id == "" {
		return false
	}
	for _, l := range lines {
		for _, c := range strings.Split(l.Path, "/") {
			if c != "" && cgroupComponentID(c) == id {
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

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// cgroupPathIdentity returns the runtime and the 64-hex container ID a
// cgroup path names, judging by the decorations and parents of the deepest
// component that holds an ID.
func cgroupPathIdentity(path string) (runtime, id string) {
	comps := strings.Split(path, "/")
	for i := len(comps) - 1; i >= 0; i-- {
		c := comps[i]
		cid := cgroupComponentID(c)
		if !isHexID(cid) {
			continue
		}
		parent := ""
		if i > 0 {
			parent = comps[i-1]
		}
		raw := strings.TrimSuffix(c, ".scope")
		switch {
		case strings.HasPrefix(raw, "docker-") || parent == "docker":
			return "docker", cid
		case strings.HasPrefix(raw, "libpod-") || parent == "libpod_parent":
			return "podman", cid
		case strings.HasPrefix(raw, "nerdctl-"):
			return "containerd", cid
		case strings.Contains(raw, "cri-containerd") || strings.HasPrefix(raw, "crio-") || strings.Contains(path, "kubepods") || parent == "k8s.io":
			// containerd's CRI without a cgroup parent: /k8s.io/<id>.
			return "cri", cid
		case i == 2 && comps[0] == "" && validContainerdID(parent):
			// ctr and nerdctl with cgroupfs: /<namespace>/<id>.
			return "containerd", cid
		}
		return "", cid
	}
	return "", ""
}

// FromCgroup says which container a process belongs to, from its
// /proc/PID/cgroup lines: the runtime ("docker", "podman", "containerd",
// "cri", or "" when the path shape does not tell) and the container's full
// ID. ok is false when no line names a container.
func FromCgroup(lines []procfs.CgroupLine) (runtime, id string, ok bool) {
	for _, l := range lines {
		if r, i := cgroupPathIdentity(l.Path); i != "" {
			if r != "" {
				return r, i, true
			}
			if id == "" {
				id = i
			}
		}
	}
	return "", id, id != ""
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
			r, id := cgroupPathIdentity(l.Path)
			if id != "" && strings.HasPrefix(id, prefix) && (runtime == "" || r == runtime) {
				return id
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
			c = append(c, runtime+":"+short(id))
		}
		sortStrings(c)
		return nil, ambiguous(ref, "ID prefix "+prefix, c)
	}
	for id, pids := range byID {
		pid, start := pickInit(pids)
		if pid == 0 {
			return nil, nil
		}
		return &Found{PID: pid, StartTime: start, Runtime: runtime, ID: id, Source: "cgroup scan"}, nil
	}
	return nil, nil
}

// short is the 12-character form of an ID.
func short(id string) string {
	if len(id) > 12 && isHex(id) {
		return id[:12]
	}
	return id
}
