package nsenter

import (
	"fmt"
	"strings"
)

// DebugMountPoint is where a debug program finds the target's root.
const DebugMountPoint = "/target"

// DebugOptions make the program run with the target's namespaces but its own
// files (nsx debug): every namespace of the target but the mount namespace
// is entered, and the program's mount namespace is a new, private one whose
// root mirrors a toolbox filesystem (the host's / by default), with
//
//   - the target's root and all its mounts at /target, read-only unless
//     Writable;
//   - a fresh /proc of the target's PID namespace, so ps, top, strace -p and
//     gdb -p see the target's processes;
//   - /dev and /sys of the host, and a fresh tmpfs on /tmp.
//
// The environment gets NSX_TARGET=/target and a PS1 naming the target. The
// target's mounts and files are not changed: the read-only attribute is set
// on nsx's detached copy of its tree only.
//
// Limits: a program that is root in the target's user namespace can still
// reach the target's writable root through /proc/PID/root of a target
// process, as any process in the target could; read-only is a guard against
// mistakes, not a sandbox. When the target has its own user namespace, the
// program is root there only: it can mount and unmount in its own mount
// namespace, but the read-only copy of /target is locked by the kernel
// (it was made by a more privileged user namespace) and cannot be remounted
// writable, and with Writable its writes obey the target's uid mapping.
type DebugOptions struct {
	// Toolbox is the directory whose top-level entries the new root
	// mirrors; empty means "/". It is resolved in the caller's mount
	// namespace when the program starts.
	Toolbox string
	// Writable leaves /target writable, so that writes land in the
	// target's files (--rw).
	Writable bool
}

// DebugPlan is the mount namespace of a debug program, for --explain.
type DebugPlan struct {
	Toolbox  string
	Writable bool
	// TargetRoot says where the tree at /target comes from.
	TargetRoot string
	// PIDNS is the PID namespace /proc shows.
	PIDNS string
}

func (d *DebugPlan) print(b *strings.Builder) {
	ro := "read-only"
	if d.Writable {
		ro = "writable (--rw): writes land in the target"
	}
	b.WriteString("mount namespace: a new private one built by nsx (the target's is not entered or changed)\n")
	fmt.Fprintf(b, "  %-8s a new tmpfs whose top-level entries mirror the toolbox %s (directories and files bound recursively, symlinks copied)\n", "/", d.Toolbox)
	fmt.Fprintf(b, "  %-8s %s with all its mounts, a detached copy, %s\n", DebugMountPoint, d.TargetRoot, ro)
	fmt.Fprintf(b, "  %-8s a new procfs of %s, mounted by the program's process\n", "/proc", d.PIDNS)
	fmt.Fprintf(b, "  %-8s the host's, recursively\n", "/dev")
	fmt.Fprintf(b, "  %-8s the host's, recursively\n", "/sys")
	fmt.Fprintf(b, "  %-8s a new tmpfs\n", "/tmp")
}

// debugLabel names the target in a prompt: "nsx debug NAME". The name is
// reduced to characters that no shell expands in a prompt, since a target's
// name could otherwise smuggle command substitutions or terminal escapes in.
func debugLabel(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.:/@+=-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return "nsx debug " + b.String()
}
