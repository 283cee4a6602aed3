package nsenter

import (
	"fmt"
	"strings"

	"github.com/nsxproject/nsx/internal/escape"
	"github.com/nsxproject/nsx/namespace"
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
	fmt.Fprintf(b, "  %-8s a new tmpfs whose top-level entries mirror the toolbox %s (directories and files bound recursively, symlinks copied)\n", "/", escape.Terminal(d.Toolbox))
	fmt.Fprintf(b, "  %-8s %s with all its mounts, a detached copy, %s\n", DebugMountPoint, escape.Terminal(d.TargetRoot), ro)
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

// debugRefused refuses, before anything is opened, the options that point
// into the target's mount namespace or the host's: the program runs in
// neither.
func debugRefused(o *Options, f *facts, inPlace bool) error {
	switch {
	case f.pid == 0:
		return unsupportedf("debug needs a target process (a PID or a container), not a namespace file")
	case inPlace:
		return unsupportedf("debug cannot run without a fork: the new /proc is mounted by a process born in the target's PID namespace")
	case o.Root:
		return unsupportedf("debug cannot change the root: the root is the toolbox, and the target's root is at %s", DebugMountPoint)
	case o.WorkDir:
		return unsupportedf("debug cannot start in a directory of the host or the target's mount namespace: use --wdns=DIR with a directory of the debug root, e.g. --wdns=%s/app", DebugMountPoint)
	case o.ReadOnly:
		return unsupportedf("debug and --read-only cannot be combined: %s is read-only already unless writable was asked for", DebugMountPoint)
	case o.Kinds.Has(namespace.Mount) || o.Files[namespace.Mount] != nil:
		return unsupportedf("debug does not enter the target's mount namespace: its files are at %s", DebugMountPoint)
	}
	return nil
}

// planDebug describes the debug mount namespace built from the facts'
// toolbox and the target's mount namespace and root.
func planDebug(p *Plan, f *facts, o *Options, want namespace.Set) {
	x := &p.exec
	x.debug = true
	p.Debug = &DebugPlan{Toolbox: f.debug.toolbox, Writable: o.Debug.Writable, TargetRoot: fmt.Sprintf("the target's root (/proc/%d/root)", f.pid), PIDNS: "nsx's own PID namespace (the target's is not entered)"}
	if want.Has(namespace.PID) {
		p.Debug.PIDNS = "the target's PID namespace"
		x.debugPIDFromTarget = true
	}
	p.Skipped = append(p.Skipped, Skip{namespace.Mount, "debug builds a new mount namespace instead; the target's root is at " + DebugMountPoint})
	p.Root = "a new tmpfs mirroring the toolbox " + f.debug.toolbox
	p.Cwd = "/ of the new root"
	if o.WorkDirInNS != "" {
		p.Cwd = o.WorkDirInNS + " (resolved in the new root)"
	}
}

// debugEnv adds what tells a debug shell apart from a host shell: the
// mount point of the target's files and a prompt naming the target. Debian's
// bash.bashrc replaces PS1 but shows $debian_chroot in it, so that is set
// too.
func debugEnv(env []string, name string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k != "NSX_TARGET" && k != "PS1" && k != "debian_chroot" {
			out = append(out, kv)
		}
	}
	return append(out, "NSX_TARGET="+DebugMountPoint, "PS1=["+debugLabel(name)+"] # ", "debian_chroot="+debugLabel(name))
}
