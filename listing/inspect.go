package listing

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
	"github.com/nsxproject/nsx/target"
)

// NSInfo describes one namespace of an inspected target.
type NSInfo struct {
	Type string `json:"type"`
	ID   uint64 `json:"id"`
	// Host is true when the namespace is the host's (that of the kernel
	// threads, i.e. the initial namespace).
	Host bool `json:"host"`
	// Owner is the owning user namespace and OwnerUID its creator; 0 and
	// -1 when the owner is not visible (the initial user namespace).
	Owner    uint64 `json:"owner_userns"`
	OwnerUID int64  `json:"owner_uid"`
	// Parent is the parent namespace (PID and user only), 0 when none.
	Parent uint64 `json:"parent"`
	Error  string `json:"error,omitempty"`
}

// Capabilities are a process's capability sets.
type Capabilities struct {
	Effective   string `json:"effective"`
	Permitted   string `json:"permitted"`
	Inheritable string `json:"inheritable"`
	Bounding    string `json:"bounding"`
	Ambient     string `json:"ambient"`
	// EffectiveNames lists the effective capabilities by name, or "all"
	// when every known capability is there.
	EffectiveNames []string `json:"effective_names"`
}

// InspectResult is `nsx inspect`'s model.
type InspectResult struct {
	Target      string               `json:"target"`
	PID         int                  `json:"pid"`
	Command     string               `json:"command,omitempty"`
	Container   *container.Container `json:"container"`
	Namespaces  []NSInfo             `json:"namespaces"`
	UIDMap      string               `json:"uid_map"`
	GIDMap      string               `json:"gid_map"`
	Setgroups   string               `json:"setgroups"`
	Hostname    string               `json:"hostname"`
	Interfaces  []Interface          `json:"interfaces"`
	Root        string               `json:"root"`
	Cwd         string               `json:"cwd"`
	Cgroup      *CgroupStats         `json:"cgroup"`
	Caps        *Capabilities        `json:"capabilities"`
	NoNewPrivs  bool                 `json:"no_new_privs"`
	Seccomp     string               `json:"seccomp"`
	LSM         string               `json:"lsm_label"`
	Errors      []string             `json:"errors,omitempty"`
	UID, GID    int                  `json:"-"`
	statusValid bool
}

// hostPID is a process known to be in the initial namespaces: kthreadd
// when this /proc shows it, else PID 1.
func hostPID() int {
	if b, err := os.ReadFile("/proc/2/stat"); err == nil && strings.Contains(string(b), "(kthreadd) S 0 ") {
		return 2
	}
	return 1
}

var capNames = []string{"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill",
	"setgid", "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
	"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time",
	"sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
	"checkpoint_restore"}

// CapNames lists the capabilities in mask by name ("cap_" less).
func CapNames(mask uint64) []string {
	out := []string{}
	for i, n := range capNames {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, n)
		}
	}
	for i := len(capNames); i < 64; i++ {
		if mask&(1<<uint(i)) != 0 {
			out = append(out, "cap_"+strconv.Itoa(i))
		}
	}
	return out
}

func nsFdInfo(fd int, k namespace.Kind) NSInfo {
	info := NSInfo{Type: k.String(), OwnerUID: -1}
	if id, err := namespace.Stat(fd); err == nil {
		info.ID = uint64(id)
	}
	if ofd, err := namespace.OwnerFd(fd); err == nil {
		if id, err := namespace.Stat(ofd); err == nil {
			info.Owner = uint64(id)
		}
		if uid, err := namespace.OwnerUID(ofd); err == nil {
			info.OwnerUID = int64(uid)
		}
		unix.Close(ofd)
	}
	if k == namespace.User {
		// The owner of a user namespace is its parent; its own creator
		// is what users ask for.
		if uid, err := namespace.OwnerUID(fd); err == nil {
			info.OwnerUID = int64(uid)
		}
	}
	if k == namespace.PID || k == namespace.User {
		if pfd, err := namespace.ParentFd(fd); err == nil {
			if id, err := namespace.Stat(pfd); err == nil {
				info.Parent = uint64(id)
			}
			unix.Close(pfd)
		}
	}
	return info
}

func readAt(t *target.Pinned, name string) (string, error) {
	b, err := t.ReadFile(name)
	return string(b), err
}

func readlinkAt(t *target.Pinned, name string) (string, error) {
	buf := make([]byte, 4096)
	n, err := unix.Readlinkat(t.ProcDir(), name, buf)
	if err != nil {
		return "", fmt.Errorf("readlink /proc/%d/%s: %w", t.PID(), name, err)
	}
	return string(buf[:n]), nil
}

// Enter runs fn on a thread that joined the kinds of t's namespaces, as
// nsenter.Do does. Inspect takes it as a value so that listing, a data
// model, does not depend on the join engine.
type Enter func(t *target.Pinned, kinds namespace.Set, fn func() error) error

// Inspect gathers everything nsx inspect shows about a pinned target. The
// hostname and the network interfaces are read inside the target's UTS and
// network namespaces through enter; with a nil enter they are left out.
func Inspect(t *target.Pinned, enter Enter) *InspectResult {
	r := &InspectResult{Target: t.Ref().String(), PID: t.PID(), Interfaces: []Interface{}, Namespaces: []NSInfo{}}
	fail := func(what string, err error) {
		r.Errors = append(r.Errors, what+": "+err.Error())
	}
	if t.Container() != nil {
		c := t.Container().Container
		r.Container = &c
	}
	host := hostPID()
	if fd, kind, ok := t.NamespaceFile(); ok {
		info := nsFdInfo(fd, kind)
		if h, err := namespace.StatPath("/proc/" + strconv.Itoa(host) + "/ns/" + kind.ProcName()); err == nil {
			info.Host = uint64(h) == info.ID
		}
		r.Namespaces = append(r.Namespaces, info)
		if kind == namespace.UTS || kind == namespace.Net {
			r.gatherInNS(enter, t, namespace.SetOf(kind), fail)
		}
		return r
	}
	if r.Container == nil {
		// Through the pin: the cgroup of the process pinned, not of a
		// process that reused its PID.
		if b, err := t.ReadFile("cgroup"); err == nil {
			r.Container = container.OfProcess(t.PID(), b)
		}
	}
	r.Command = readProcInfo(t.PID()).Command
	for _, k := range namespace.All {
		fd, err := t.OpenNS(k)
		if err != nil {
			if !os.IsNotExist(err) {
				r.Namespaces = append(r.Namespaces, NSInfo{Type: k.String(), OwnerUID: -1, Error: err.Error()})
			}
			continue
		}
		info := nsFdInfo(fd, k)
		unix.Close(fd)
		if h, err := namespace.StatPath("/proc/" + strconv.Itoa(host) + "/ns/" + k.ProcName()); err == nil {
			info.Host = uint64(h) == info.ID
		}
		r.Namespaces = append(r.Namespaces, info)
	}
	if s, err := readAt(t, "uid_map"); err == nil {
		r.UIDMap = s
	} else {
		fail("uid_map", err)
	}
	if s, err := readAt(t, "gid_map"); err == nil {
		r.GIDMap = s
	} else {
		fail("gid_map", err)
	}
	if s, err := readAt(t, "setgroups"); err == nil {
		r.Setgroups = strings.TrimSpace(s)
	}
	if s, err := readlinkAt(t, "root"); err == nil {
		r.Root = s
	} else {
		fail("root", err)
	}
	if s, err := readlinkAt(t, "cwd"); err == nil {
		r.Cwd = s
	} else {
		fail("cwd", err)
	}
	if s, err := readAt(t, "status"); err == nil {
		if st, err := procfs.ParseStatus(s); err == nil {
			r.statusValid = true
			r.UID, r.GID = int(st.UID[1]), int(st.GID[1])
			r.Caps = &Capabilities{
				Effective: fmt.Sprintf("%016x", st.CapEff), Permitted: fmt.Sprintf("%016x", st.CapPrm),
				Inheritable: fmt.Sprintf("%016x", st.CapInh), Bounding: fmt.Sprintf("%016x", st.CapBnd),
				Ambient: fmt.Sprintf("%016x", st.CapAmb), EffectiveNames: CapNames(st.CapEff),
			}
			if st.CapEff != 0 && st.CapEff == st.CapBnd && len(CapNames(st.CapEff)) >= len(capNames) {
				r.Caps.EffectiveNames = []string{"all"}
			}
			r.NoNewPrivs = st.NoNewPrivs != 0
			switch st.Seccomp {
			case 0:
				r.Seccomp = "disabled"
			case 1:
				r.Seccomp = "strict"
			case 2:
				r.Seccomp = "filter"
			default:
				r.Seccomp = "unknown"
			}
		}
	}
	r.LSM = readLSM(t)
	if cs, err := ReadCgroupStats(t.PID()); err == nil {
		r.Cgroup = cs
	} else {
		fail("cgroup", err)
	}
	r.gatherInNS(enter, t, namespace.SetOf(namespace.UTS, namespace.Net), fail)
	if err := t.Alive(); err != nil {
		fail("target", err)
	}
	return r
}

func readLSM(t *target.Pinned) string {
	for _, name := range []string{"attr/current", "attr/apparmor/current"} {
		s, err := readAt(t, name)
		if err != nil {
			continue
		}
		s = strings.TrimRight(s, "\x00\n")
		if s != "" {
			return s
		}
	}
	return ""
}

// gatherInNS reads the hostname and the network interfaces from threads
// that joined the target's UTS and network namespaces.
func (r *InspectResult) gatherInNS(enter Enter, t *target.Pinned, kinds namespace.Set, fail func(string, error)) {
	if enter == nil {
		return
	}
	if kinds.Has(namespace.UTS) {
		err := enter(t, namespace.SetOf(namespace.UTS), func() error {
			var u unix.Utsname
			if err := unix.Uname(&u); err != nil {
				return err
			}
			r.Hostname = unix.ByteSliceToString(u.Nodename[:])
			return nil
		})
		if err != nil {
			fail("hostname", err)
		}
	}
	if kinds.Has(namespace.Net) {
		err := enter(t, namespace.SetOf(namespace.Net), func() error {
			ifs, err := Interfaces()
			if ifs != nil {
				r.Interfaces = ifs
			}
			return err
		})
		if err != nil {
			fail("interfaces", err)
		}
	}
}

// InspectText renders the human view.
func InspectText(r *InspectResult) string {
	var b strings.Builder
	// Every value may come from the target (command line, hostname, paths,
	// container names): escaped for the terminal.
	kv := func(k, v string) { fmt.Fprintf(&b, "%-14s %s\n", k+":", Escape(v)) }
	kv("Target", r.Target)
	if r.PID > 0 {
		kv("PID", strconv.Itoa(r.PID))
	}
	if r.Command != "" {
		kv("Command", r.Command)
	}
	if r.Container != nil {
		kv("Container", r.Container.Ref()+" ("+r.Container.ID+")")
	} else {
		kv("Container", "-")
	}
	b.WriteString("\nNamespaces:\n")
	t := &Table{TreeColumn: -1, Columns: []Column{{Name: "TYPE"}, {Name: "NS", Right: true}, {Name: "HOST"},
		{Name: "OWNER", Right: true}, {Name: "OWNER-UID", Right: true}, {Name: "PARENT", Right: true}}}
	for _, n := range r.Namespaces {
		if n.Error != "" {
			t.Rows = append(t.Rows, &Row{Cells: []string{n.Type, "", "", "", "", n.Error}})
			continue
		}
		host := "no"
		if n.Host {
			host = "yes"
		}
		own, ouid, par := "-", "-", "-"
		if n.Owner != 0 {
			own = strconv.FormatUint(n.Owner, 10)
		}
		if n.OwnerUID >= 0 {
			ouid = strconv.FormatInt(n.OwnerUID, 10)
		}
		if n.Parent != 0 {
			par = strconv.FormatUint(n.Parent, 10)
		}
		t.Rows = append(t.Rows, &Row{Cells: []string{n.Type, strconv.FormatUint(n.ID, 10), host, own, ouid, par}})
	}
	var tb strings.Builder
	t.Write(&tb, Format{})
	for _, l := range strings.SplitAfter(tb.String(), "\n") {
		if l != "" {
			b.WriteString("  " + l)
		}
	}
	b.WriteString("\n")
	indentMap := func(s string) string {
		s = strings.TrimRight(s, "\n")
		if s == "" {
			return "(none)"
		}
		var out []string
		for _, l := range strings.Split(s, "\n") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
		return strings.Join(out, "; ")
	}
	if r.PID > 0 {
		kv("uid_map", indentMap(r.UIDMap))
		kv("gid_map", indentMap(r.GIDMap))
		kv("setgroups", r.Setgroups)
	}
	if r.Hostname != "" {
		kv("Hostname", r.Hostname)
	}
	if r.PID > 0 {
		kv("Root", r.Root)
		kv("Cwd", r.Cwd)
	}
	if len(r.Interfaces) > 0 {
		b.WriteString("\nInterfaces:\n")
		for _, it := range r.Interfaces {
			state := it.State
			if state == "" {
				state = "unknown"
			}
			line := fmt.Sprintf("  %d: %s  %s mtu %d", it.Index, Escape(it.Name), Escape(state), it.MTU)
			if it.MAC != "" {
				line += " link " + Escape(it.MAC)
			}
			if it.LinkNetNSID >= 0 {
				line += " peer-netnsid " + strconv.Itoa(it.LinkNetNSID)
			}
			b.WriteString(line + "\n")
			for _, a := range it.Addrs {
				b.WriteString("      " + Escape(a) + "\n")
			}
		}
		b.WriteString("\n")
	}
	if r.Cgroup != nil {
		for _, l := range CgroupSummary(r.Cgroup) {
			k, v, _ := strings.Cut(l, ": ")
			kv(strings.ToUpper(k[:1])+k[1:], v)
		}
	}
	if r.Caps != nil {
		kv("CapEff", r.Caps.Effective+" ("+strings.Join(r.Caps.EffectiveNames, ",")+")")
		kv("CapPrm", r.Caps.Permitted)
		kv("CapBnd", r.Caps.Bounding)
		kv("CapInh", r.Caps.Inheritable)
		kv("CapAmb", r.Caps.Ambient)
		kv("NoNewPrivs", strconv.FormatBool(r.NoNewPrivs))
		kv("Seccomp", r.Seccomp)
	}
	if r.PID > 0 {
		lsm := r.LSM
		if lsm == "" {
			lsm = "-"
		}
		kv("LSM label", lsm)
	}
	for _, e := range r.Errors {
		kv("Warning", e)
	}
	return b.String()
}
