package nsenter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/target"
)

// Debug returns a Cmd that runs name with args as DebugOptions describe,
// in every namespace of t but its mount namespace; the other options are
// those of opts (credentials, environment, capabilities). An empty name runs
// the caller's $SHELL if the toolbox has it, else /bin/sh.
func Debug(t *target.Pinned, opts Options, d DebugOptions, name string, args ...string) *Cmd {
	opts.Debug = &d
	if opts.Kinds == 0 {
		opts.All = true
	}
	c := &Cmd{Target: t, Options: opts, Path: name}
	if name != "" {
		c.Args = append([]string{name}, args...)
	}
	return c
}

// debugRefused refuses, before anything is opened, the options that point
// into the target's mount namespace or the host's: the program runs in
// neither.
func debugRefused(o *Options, t *target.Pinned, inPlace bool) error {
	switch {
	case t == nil || t.PID == 0:
		return errorf(nil, "debug needs a target process (a PID or a container), not a namespace file")
	case inPlace:
		return errorf(nil, "debug cannot run without a fork: the new /proc is mounted by a process born in the target's PID namespace")
	case o.Root:
		return errorf(nil, "debug cannot change the root: the root is the toolbox, and the target's root is at %s", DebugMountPoint)
	case o.WorkDir:
		return errorf(nil, "debug cannot start in a directory of the host or the target's mount namespace: use --wdns=DIR with a directory of the debug root, e.g. --wdns=%s/app", DebugMountPoint)
	case o.ReadOnly:
		return errorf(nil, "debug and --read-only cannot be combined: %s is read-only already unless writable was asked for", DebugMountPoint)
	case o.Kinds.Has(namespace.Mount) || o.Files[namespace.Mount] != nil:
		return errorf(nil, "debug does not enter the target's mount namespace: its files are at %s", DebugMountPoint)
	}
	return nil
}

// debug prepares the debug mount namespace. Its fds are opened here, in
// nsx's own namespaces, and used by spawn's locked thread.
func (b *build) debug(o *Options, t *target.Pinned, want namespace.Set) error {
	d := o.Debug
	toolbox := d.Toolbox
	if toolbox == "" {
		toolbox = "/"
	}
	toolbox, err := filepath.Abs(toolbox)
	if err != nil {
		return errorf(err, "toolbox %s", d.Toolbox)
	}
	if st, err := os.Stat(toolbox); err != nil {
		return errorf(unwrapErrno(err), "cannot open toolbox %s", toolbox)
	} else if !st.IsDir() {
		return errorf(nil, "toolbox %s is not a directory", toolbox)
	}
	mnt, err := t.OpenNS(namespace.Mount)
	if err != nil {
		return errorf(unwrapErrno(err), "cannot open /proc/%d/ns/mnt", t.PID)
	}
	b.keep(mnt)
	root, err := t.OpenAt("root", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return errorf(unwrapErrno(err), "cannot open /proc/%d/root", t.PID)
	}
	b.keep(root)
	own, err := unix.Open("/proc/self/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errorf(err, "cannot open /proc/self/ns/mnt")
	}
	b.keep(own)
	b.spec.Debug = &spawn.DebugRoot{
		TargetMntFd: mnt, TargetRootFd: root, OwnMntFd: own,
		Toolbox: toolbox, Writable: d.Writable, MountPoint: DebugMountPoint,
	}
	b.toolbox = toolbox

	p := b.plan
	p.Debug = &DebugPlan{Toolbox: toolbox, Writable: d.Writable, TargetRoot: fmt.Sprintf("the target's root (/proc/%d/root)", t.PID), PIDNS: "nsx's own PID namespace (the target's is not entered)"}
	if want.Has(namespace.PID) {
		p.Debug.PIDNS = "the target's PID namespace"
		b.fillIDs = append(b.fillIDs, func() {
			if fd, err := t.OpenNS(namespace.PID); err == nil {
				id, _ := namespace.Stat(fd)
				unix.Close(fd)
				p.Debug.PIDNS = fmt.Sprintf("the target's PID namespace pid:[%d]", id)
			}
		})
	}
	p.Skipped = append(p.Skipped, Skip{namespace.Mount, "debug builds a new mount namespace instead; the target's root is at " + DebugMountPoint})
	p.Root = "a new tmpfs mirroring the toolbox " + toolbox
	p.Cwd = "/ of the new root"
	if o.WorkDirInNS != "" {
		p.Cwd = o.WorkDirInNS + " (resolved in the new root)"
	}
	return nil
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

// debugProgram picks the default program, the caller's $SHELL when the
// toolbox has it, else /bin/sh; a toolbox with neither is not a root
// filesystem, and the user must name the program.
func (b *build) debugProgram(path string, argv []string) (string, []string, error) {
	if path != "" {
		return path, argv, nil
	}
	for _, sh := range []string{os.Getenv("SHELL"), "/bin/sh"} {
		if sh != "" && inToolbox(b.toolbox, sh) {
			return sh, []string{sh}, nil
		}
	}
	return "", nil, errorf(nil, "toolbox %s is not a root filesystem: it has no /bin/sh; name the program to run", b.toolbox)
}

// inToolbox reports whether the toolbox has an executable at path, resolved
// as the debug program will see it, with the toolbox as its root.
func inToolbox(toolbox, path string) bool {
	dir, err := unix.Open(toolbox, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(dir)
	fd, err := unix.Openat2(dir, strings.TrimPrefix(path, "/"), &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0
}

// debugCause words the error of a debug namespace step as util-linux words
// errors, with the path of a failed mount copy when there is one.
func debugCause(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path + ": " + Strerror(pe.Err)
	}
	return Strerror(err)
}
