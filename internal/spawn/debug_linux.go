package spawn

// The debug mount namespace of `nsx debug`: a private namespace whose root is
// a tmpfs mirroring a toolbox filesystem (the host's / by default), with a
// detached recursive copy of the target's root attached at /target. It is
// built in Go on a locked thread that has its own fs_struct and is never
// returned to the scheduler; the raw child inherits the thread's mount
// namespace and root, and only mounts the fresh /proc itself, because a
// procfs shows the PID namespace of the task that mounts it.
//
// Kernel rules that shape the order of the steps (measured on 6.18):
//   - open_tree(OPEN_TREE_CLONE) of a mount of another mount namespace fails
//     with EINVAL: the thread joins the target's mount namespace to clone
//     its root, then goes back to nsx's own.
//   - Attributes set on the detached copy (read-only, private propagation)
//     affect only the copy: the target's mounts are never changed.
//   - Nothing is created on a host filesystem: the new root is a tmpfs
//     staged over a directory of the private namespace and made the root
//     with pivot_root, after which the host's tree is detached.

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// DebugRoot describes the mount namespace the program of `nsx debug` runs
// in. Fds belong to the caller.
type DebugRoot struct {
	// TargetMntFd is the target's mount namespace; TargetRootFd its root
	// directory (/proc/PID/root), which may be a chroot inside it.
	TargetMntFd, TargetRootFd int
	// OwnMntFd is nsx's own mount namespace, to come back to after
	// cloning the target's tree.
	OwnMntFd int
	// Toolbox is the absolute path of the directory whose top-level
	// entries the new root mirrors ("/" for the host's root).
	Toolbox string
	// Writable leaves the copy of the target's tree writable (--rw).
	Writable bool
	// MountPoint is where the target's tree appears, e.g. "/target".
	MountPoint string
}

// DebugError is a failure while building the debug mount namespace, before
// any process was started.
type DebugError struct {
	// Step says what failed, for people: "clone the target's root", …
	Step string
	Err  error
}

func (e *DebugError) Error() string { return e.Step + ": " + e.Err.Error() }

func (e *DebugError) Unwrap() error { return e.Err }

// debugSkipped reports the toolbox entries the new root gets fresh or from
// the host instead of from the toolbox. The mount point of the target's tree
// is left out too (a toolbox that is itself a debug image may have one). A
// switch, not a package-level map: a map is built by the init every nsx
// command runs.
func debugSkipped(name string) bool {
	switch name {
	case "proc", "sys", "dev", "tmp":
		return true
	}
	return false
}

// debugStages are where the new root may be assembled in the private
// namespace before pivot_root makes it the root: the first that is a
// directory. Any directory of the private copy would do (the mount over it
// is seen by nobody else, and everything mirrored was cloned before), but an
// image holding only nsx, such as kubectl-nsx's helper, has no /tmp; a
// container always has /dev.
var debugStages = []string{"/tmp", "/run", "/mnt", "/dev"}

// pickDebugStage returns the first of debugStages that is a directory, not
// a symlink.
func pickDebugStage() (string, error) {
	for _, d := range debugStages {
		var st unix.Stat_t
		if unix.Lstat(d, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return d, nil
		}
	}
	return "", unix.ENOENT
}

// buildDebugRoot turns the calling thread's mount namespace into the debug
// namespace and makes its root the new tmpfs. The caller has locked the
// thread and unshared CLONE_FS; the thread must die afterwards.
func buildDebugRoot(d *DebugRoot) error {
	if d.MountPoint == "" || d.MountPoint[0] != '/' || strings.Contains(d.MountPoint[1:], "/") {
		return &DebugError{Step: "use " + d.MountPoint, Err: errors.New("the mount point must be one top-level directory")}
	}
	fail := func(step string, err error) error { return &DebugError{Step: step, Err: err} }
	private := &unix.MountAttr{Propagation: unix.MS_PRIVATE}

	proc, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail("open /proc", err)
	}
	defer unix.Close(proc)

	// 1. The target's tree, cloned from inside its mount namespace.
	if err := unix.Setns(d.TargetMntFd, unix.CLONE_NEWNS); err != nil {
		return fail("join the target's mount namespace", err)
	}
	// Private: a copy that stayed a peer of the container's mounts would
	// carry the program's mounts under /target into the container.
	attr := *private
	if !d.Writable {
		attr.Attr_set = unix.MOUNT_ATTR_RDONLY
	}
	tree, err := cloneTree(&mountTable{proc: proc}, d.TargetRootFd, &attr)
	defer closeParts(tree)
	if err != nil {
		return fail("copy the target's root", err)
	}

	// 2. Back home, into a private namespace of nsx's own.
	if err := unix.Setns(d.OwnMntFd, unix.CLONE_NEWNS); err != nil {
		return fail("return to nsx's mount namespace", err)
	}
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fail("create a mount namespace", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail("make the new mount namespace private", err)
	}

	// 3. Copies of the toolbox's top-level entries, taken before the
	// stage is mounted (the toolbox may lie under it).
	home := &mountTable{proc: proc}
	entries, err := toolboxEntries(home, d.Toolbox, d.MountPoint)
	defer func() {
		for _, e := range entries {
			closeParts(e.tree)
		}
	}()
	if err != nil {
		return fail("copy the toolbox "+d.Toolbox, err)
	}
	for _, host := range []string{"/dev", "/sys"} {
		fd, err := unix.Open(host, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fail("copy "+host, err)
		}
		tree, err := cloneTree(home, fd, private)
		unix.Close(fd)
		entries = append(entries, toolboxEntry{name: host[1:], kind: unix.S_IFDIR, tree: tree})
		if err != nil {
			return fail("copy "+host, err)
		}
	}

	// 4. The new root.
	debugStage, err := pickDebugStage()
	if err != nil {
		return fail("find a directory to build the new root on ("+strings.Join(debugStages, ", ")+")", err)
	}
	if err := unix.Mount("nsx-debug", debugStage, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fail("mount the new root's tmpfs on "+debugStage, err)
	}
	at := func(name string) string { return debugStage + "/" + name }
	for _, e := range entries {
		var err error
		switch e.kind {
		case unix.S_IFLNK:
			err = unix.Symlink(e.link, at(e.name))
		case unix.S_IFDIR:
			if err = unix.Mkdir(at(e.name), 0o755); err == nil {
				err = attachTree(e.tree, at(e.name))
			}
		default:
			var fd int
			if fd, err = unix.Open(at(e.name), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644); err == nil {
				unix.Close(fd)
				err = attachTree(e.tree, at(e.name))
			}
		}
		if err != nil {
			return fail("mirror "+e.name+" of the toolbox", err)
		}
	}
	mp := at(d.MountPoint[1:])
	if err := unix.Mkdir(mp, 0o755); err != nil {
		return fail("create "+d.MountPoint, err)
	}
	if err := attachTree(tree, mp); err != nil {
		return fail("attach the target's root at "+d.MountPoint, err)
	}
	if err := unix.Mkdir(at("tmp"), 0o1777); err != nil {
		return fail("create /tmp", err)
	}
	if err := unix.Mount("tmpfs", at("tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return fail("mount /tmp", err)
	}
	// A procfs of nsx's PID namespace, hidden; the child mounts the
	// target's on /proc. It must exist: in a user namespace the kernel
	// lets root mount a procfs only if the namespace has one already whose
	// contents are all visible (no locked mount on top of any of it). So
	// it sits in a holder tmpfs on /proc, and an empty read-only cover is
	// stacked on the holder, not on the procfs. In the target's user
	// namespace the program may unmount the procfs its child mounted, but
	// not the cover, which the kernel locks as made by a more privileged
	// user namespace: the host's processes stay out of sight.
	if err := unix.Mkdir(at("proc"), 0o555); err != nil {
		return fail("create /proc", err)
	}
	if err := unix.Mount("nsx-debug-holder", at("proc"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0555,size=4k"); err != nil {
		return fail("mount /proc", err)
	}
	if err := unix.Mkdir(at("proc/host"), 0o555); err != nil {
		return fail("create /proc", err)
	}
	if err := unix.Mount("proc", at("proc/host"), "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fail("mount /proc", err)
	}
	if err := unix.Mount("nsx-debug-cover", at("proc"), "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=0555,size=4k"); err != nil {
		return fail("cover /proc", err)
	}
	if err := unix.MountSetattr(unix.AT_FDCWD, debugStage, unix.AT_RECURSIVE, private); err != nil {
		return fail("make the new root private", err)
	}

	// 5. Into it, leaving nothing of the host's tree behind but what was
	// mirrored: pivot_root(".", ".") stacks the old root on the new one,
	// and the detach removes it.
	if err := unix.Chdir(debugStage); err != nil {
		return fail("change to the new root", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fail("pivot_root to the new root", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fail("detach the old root", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fail("change to /", err)
	}
	return nil
}

// toolboxEntry is one top-level entry of the toolbox: a symlink is copied,
// a directory or file bound (tree is its detached recursive copy).
type toolboxEntry struct {
	name string
	kind uint32
	link string
	tree []treePart
}

// toolboxEntries lists the toolbox's top-level entries and copies the
// directories and files among them, with their mounts. Sockets, devices and
// fifos at the top level are left out. On failure it returns what it copied
// so far, for the caller to close.
func toolboxEntries(tab *mountTable, dir, mountPoint string) (out []toolboxEntry, err error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dfd), dir)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	private := &unix.MountAttr{Propagation: unix.MS_PRIVATE}
	for _, name := range names {
		if debugSkipped(name) || name == strings.TrimPrefix(mountPoint, "/") {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return out, err
		}
		e := toolboxEntry{name: name, kind: st.Mode & unix.S_IFMT}
		switch e.kind {
		case unix.S_IFLNK:
			buf := make([]byte, unix.PathMax)
			n, err := unix.Readlinkat(dfd, name, buf)
			if err != nil {
				return out, err
			}
			e.link = string(buf[:n])
		case unix.S_IFDIR, unix.S_IFREG:
			fd, err := unix.Openat(dfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			e.tree, err = cloneTree(tab, fd, private)
			unix.Close(fd)
			if err != nil {
				closeParts(e.tree)
				return out, fmt.Errorf("%s: %w", name, err)
			}
		default:
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

// startDebug builds the debug namespace on a fresh locked thread, joins the
// PID namespace for children there and clones the raw child from it. The
// thread exits with its goroutine: its namespaces are not the process's.
func startDebug(s *Spec, raw *rawSpec) (pid, pidfd int, errno unix.Errno, err error) {
	type result struct {
		pid, pidfd int
		errno      unix.Errno
		err        error
	}
	done := make(chan result, 1)
	goOffMain(func() {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- result{err: os.NewSyscallError("unshare", err)}
			return
		}
		if err := buildDebugRoot(s.Debug); err != nil {
			done <- result{err: err}
			return
		}
		if s.PrejoinPID >= 0 {
			if err := unix.Setns(s.PrejoinPID, int(s.PIDMask)); err != nil {
				raw.forkForPID = true
			}
		}
		waitGate(s)
		pid, pidfd, e := fork(raw)
		done <- result{pid, pidfd, e, nil}
	})
	r := <-done
	return r.pid, r.pidfd, r.errno, r.err
}
