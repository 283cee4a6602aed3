package listing

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// PsProcess is one process of a PID namespace.
type PsProcess struct {
	PID  int `json:"pid"`
	PPID int `json:"ppid"`
	// NSpid is the PID inside the target's PID namespace.
	NSpid int    `json:"nspid"`
	UID   int    `json:"uid"`
	User  string `json:"user"`
	// InnerUID is the UID inside the target's user namespace, -1 when the
	// host UID is not mapped there.
	InnerUID int     `json:"inner_uid"`
	State    string  `json:"state"`
	CPUSec   float64 `json:"cpu_seconds"`
	CPUPct   float64 `json:"cpu_percent"`
	RSSKiB   uint64  `json:"rss_kib"`
	Threads  int     `json:"threads"`
	Command  string  `json:"command"`
}

// PsResult is `nsx ps`'s model.
type PsResult struct {
	PIDNamespace uint64               `json:"pid_ns"`
	Target       int                  `json:"target_pid"`
	Container    *container.Container `json:"container"`
	Processes    []PsProcess          `json:"processes"`
	Cgroup       *CgroupStats         `json:"cgroup"`
}

// uptimeSeconds is the system's uptime.
func uptimeSeconds() float64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// Ps lists the processes of PID namespace pidns. target is the process the
// user named (its user namespace maps UIDs, its cgroup gives the totals); 0
// for a namespace file.
func Ps(pidns uint64, target int) (*PsResult, error) {
	snap, err := Scan(ScanOptions{Kinds: namespace.SetOf(namespace.PID), KeepPIDs: true})
	if err != nil {
		return nil, err
	}
	ns := snap.Lookup(namespace.PID, pidns)
	res := &PsResult{PIDNamespace: pidns, Target: target, Processes: []PsProcess{}}
	if ns == nil {
		return res, nil
	}
	var umap procfs.IDMap
	mapped := false
	if target > 0 {
		if m, err := procfs.ReadIDMap(target, "uid_map"); err == nil {
			umap, mapped = m, true
		}
		res.Container = containerOfPID(target)
		res.Cgroup, _ = ReadCgroupStats(target)
	}
	up := uptimeSeconds()
	for _, pid := range ns.PIDs {
		st, err := procfs.ReadStatus(pid)
		if err != nil {
			continue // gone
		}
		stat, err := procfs.ReadStat(pid)
		if err != nil {
			continue
		}
		p := PsProcess{PID: pid, PPID: st.PPID, UID: int(st.UID[1]), InnerUID: -1,
			State: string(st.State), RSSKiB: st.VmRSS, Threads: st.Threads}
		if len(st.NSpid) > 0 {
			p.NSpid = st.NSpid[len(st.NSpid)-1]
		}
		p.User = UserName(p.UID)
		if mapped {
			if in, ok := umap.ToInside(uint32(p.UID)); ok {
				p.InnerUID = int(in)
			}
		}
		cpu := float64(stat.UTime+stat.STime) / clockTicks
		p.CPUSec = cpu
		if el := up - float64(stat.StartTime)/clockTicks; el > 0 {
			p.CPUPct = 100 * cpu / el
		}
		p.Command = readProcInfo(pid).Command
		res.Processes = append(res.Processes, p)
	}
	return res, nil
}

// FormatCPUTime formats seconds as ps's TIME, [DD-]HH:MM:SS.
func FormatCPUTime(sec float64) string {
	d := time.Duration(sec) * time.Second
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	s := int(d.Seconds()) % 60
	if h >= 24 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", h/24, h%24, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// PsTable renders a PsResult as a table.
func PsTable(r *PsResult) *Table {
	t := &Table{Name: "processes", TreeColumn: -1, Columns: []Column{
		{Name: "PID", Right: true}, {Name: "NSPID", Right: true}, {Name: "USER"},
		{Name: "INNER-UID", Right: true}, {Name: "STATE"}, {Name: "%CPU", Right: true},
		{Name: "TIME", Right: true}, {Name: "RSS", Right: true}, {Name: "COMMAND", Trunc: true},
	}}
	for _, p := range r.Processes {
		inner := "-"
		if p.InnerUID >= 0 {
			inner = strconv.Itoa(p.InnerUID)
		}
		t.Rows = append(t.Rows, &Row{Cells: []string{
			strconv.Itoa(p.PID), strconv.Itoa(p.NSpid), p.User, inner, p.State,
			strconv.FormatFloat(p.CPUPct, 'f', 1, 64), FormatCPUTime(p.CPUSec),
			strconv.FormatUint(p.RSSKiB, 10), p.Command,
		}})
	}
	return t
}

// HumanBytes formats a byte count, "max" for -1.
func HumanBytes(n int64) string {
	if n < 0 {
		return "max"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		if v < unit {
			return fmt.Sprintf("%.1f%s", v, u)
		}
	}
	return fmt.Sprintf("%.1fPiB", v/unit)
}

// CgroupSummary describes cgroup totals and limits in a few lines.
func CgroupSummary(c *CgroupStats) []string {
	if c == nil {
		return nil
	}
	var out []string
	out = append(out, "cgroup: "+c.Path)
	cpu := "cpu: "
	if c.CPUUsageUsec >= 0 {
		cpu += fmt.Sprintf("%.2fs used", float64(c.CPUUsageUsec)/1e6)
	} else {
		cpu += "usage unknown"
	}
	switch {
	case c.CPUQuotaUsec > 0 && c.CPUPeriodUsec > 0:
		cpu += fmt.Sprintf(", limit %.2f CPUs (%d/%d us)", float64(c.CPUQuotaUsec)/float64(c.CPUPeriodUsec), c.CPUQuotaUsec, c.CPUPeriodUsec)
	default:
		cpu += ", no limit"
	}
	if s := c.Sources["cpu_usage"]; s != "" {
		cpu += " [" + s + "]"
	}
	out = append(out, cpu)
	mem := "memory: "
	if c.MemoryBytes >= 0 {
		mem += HumanBytes(c.MemoryBytes) + " used, limit " + HumanBytes(c.MemoryLimit)
	} else {
		mem += "unknown"
	}
	if s := c.Sources["memory"]; s != "" {
		mem += " [" + s + "]"
	}
	out = append(out, mem)
	if c.PidsCurrent >= 0 {
		lim := "max"
		if c.PidsLimit >= 0 {
			lim = strconv.FormatInt(c.PidsLimit, 10)
		}
		out = append(out, fmt.Sprintf("pids: %d, limit %s [%s]", c.PidsCurrent, lim, c.Sources["pids"]))
	}
	return out
}
