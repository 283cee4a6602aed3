package listing

import (
	"os"
	"strconv"
	"strings"

	"github.com/nsxproject/nsx/procfs"
)

// CgroupStats are a cgroup's resource totals and limits, from cgroup v2
// where the controller is there and v1 otherwise. Limits are -1 when
// unlimited or unknown; totals are -1 when unknown.
type CgroupStats struct {
	// Path is the cgroup v2 path ("0::" line), V1 the v1 paths by
	// controller.
	Path string            `json:"path"`
	V1   map[string]string `json:"v1,omitempty"`
	// CPUUsageUsec is the CPU time used, in microseconds.
	CPUUsageUsec int64 `json:"cpu_usage_usec"`
	// CPUQuotaUsec/CPUPeriodUsec is the CPU bandwidth limit.
	CPUQuotaUsec  int64 `json:"cpu_quota_usec"`
	CPUPeriodUsec int64 `json:"cpu_period_usec"`
	MemoryBytes   int64 `json:"memory_bytes"`
	MemoryLimit   int64 `json:"memory_limit_bytes"`
	PidsCurrent   int64 `json:"pids_current"`
	PidsLimit     int64 `json:"pids_limit"`
	// Sources says which hierarchy each figure came from ("v1", "v2").
	Sources map[string]string `json:"sources"`
}

type cgroupMounts struct {
	v2 string            // cgroup2 mount point
	v1 map[string]string // controller -> mount point
}

func findCgroupMounts() cgroupMounts {
	cm := cgroupMounts{v1: map[string]string{}}
	mounts, err := procfs.ReadMountinfo(0)
	if err != nil {
		return cm
	}
	for _, m := range mounts {
		switch m.FSType {
		case "cgroup2":
			if cm.v2 == "" {
				cm.v2 = m.MountPoint
			}
		case "cgroup":
			for _, o := range strings.Split(m.SuperOptions, ",") {
				switch o {
				case "cpu", "cpuacct", "memory", "pids", "cpuset", "blkio", "devices", "freezer":
					if _, ok := cm.v1[o]; !ok {
						cm.v1[o] = m.MountPoint
					}
				}
			}
		}
	}
	return cm
}

func readInt(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return -1, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// ReadCgroupStats reads the totals and limits of process pid's cgroups.
func ReadCgroupStats(pid int) (*CgroupStats, error) {
	lines, err := procfs.ReadCgroup(pid)
	if err != nil {
		return nil, err
	}
	cs := &CgroupStats{CPUUsageUsec: -1, CPUQuotaUsec: -1, CPUPeriodUsec: -1, MemoryBytes: -1,
		MemoryLimit: -1, PidsCurrent: -1, PidsLimit: -1, Sources: map[string]string{}}
	v1 := map[string]string{}
	for _, l := range lines {
		for _, c := range l.Controllers {
			v1[c] = l.Path
		}
	}
	if len(v1) > 0 {
		cs.V1 = v1
	}
	cs.Path, _ = procfs.UnifiedPath(lines)
	cm := findCgroupMounts()
	v2dir := ""
	var v2ctrl string
	if cm.v2 != "" && cs.Path != "" {
		v2dir = cm.v2 + cs.Path
		if b, err := os.ReadFile(v2dir + "/cgroup.controllers"); err == nil {
			v2ctrl = " " + strings.TrimSpace(string(b)) + " "
		}
	}
	has2 := func(c string) bool { return v2dir != "" && strings.Contains(v2ctrl, " "+c+" ") }
	// CPU usage: cpu.stat exists in every v2 cgroup.
	if v2dir != "" {
		if b, err := os.ReadFile(v2dir + "/cpu.stat"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
					if n, err := strconv.ParseInt(v, 10, 64); err == nil && (n > 0 || !has1(cm, v1, "cpuacct")) {
						cs.CPUUsageUsec, cs.Sources["cpu_usage"] = n, "v2"
					}
				}
			}
		}
	}
	if cs.CPUUsageUsec < 0 && has1(cm, v1, "cpuacct") {
		if n, ok := readInt(cm.v1["cpuacct"] + v1["cpuacct"] + "/cpuacct.usage"); ok {
			cs.CPUUsageUsec, cs.Sources["cpu_usage"] = n/1000, "v1"
		}
	}
	if has2("cpu") {
		if b, err := os.ReadFile(v2dir + "/cpu.max"); err == nil {
			f := strings.Fields(string(b))
			if len(f) == 2 {
				if f[0] != "max" {
					cs.CPUQuotaUsec, _ = strconv.ParseInt(f[0], 10, 64)
				}
				cs.CPUPeriodUsec, _ = strconv.ParseInt(f[1], 10, 64)
				cs.Sources["cpu_limit"] = "v2"
			}
		}
	} else if has1(cm, v1, "cpu") {
		d := cm.v1["cpu"] + v1["cpu"]
		if q, ok := readInt(d + "/cpu.cfs_quota_us"); ok {
			cs.CPUQuotaUsec = q
			cs.CPUPeriodUsec, _ = readInt(d + "/cpu.cfs_period_us")
			cs.Sources["cpu_limit"] = "v1"
		}
	}
	if has2("memory") {
		cs.MemoryBytes, _ = readInt(v2dir + "/memory.current")
		cs.MemoryLimit, _ = readInt(v2dir + "/memory.max")
		cs.Sources["memory"] = "v2"
	} else if has1(cm, v1, "memory") {
		d := cm.v1["memory"] + v1["memory"]
		if n, ok := readInt(d + "/memory.usage_in_bytes"); ok {
			cs.MemoryBytes = n
			if l, ok := readInt(d + "/memory.limit_in_bytes"); ok && l < 1<<62 {
				cs.MemoryLimit = l
			}
			cs.Sources["memory"] = "v1"
		}
	}
	if has2("pids") {
		cs.PidsCurrent, _ = readInt(v2dir + "/pids.current")
		cs.PidsLimit, _ = readInt(v2dir + "/pids.max")
		cs.Sources["pids"] = "v2"
	} else if has1(cm, v1, "pids") {
		d := cm.v1["pids"] + v1["pids"]
		if n, ok := readInt(d + "/pids.current"); ok {
			cs.PidsCurrent = n
			cs.PidsLimit, _ = readInt(d + "/pids.max")
			cs.Sources["pids"] = "v1"
		}
	}
	return cs, nil
}

func has1(cm cgroupMounts, v1 map[string]string, c string) bool {
	_, a := cm.v1[c]
	_, b := v1[c]
	return a && b
}
