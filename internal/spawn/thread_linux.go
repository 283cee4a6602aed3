package spawn

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/nsxproject/nsx/namespace"
	"golang.org/x/sys/unix"
)

// threadJoinable reports whether the whole spec can be carried out by one
// locked thread followed by an ordinary vfork+exec: no user or time
// namespace (those need a single-threaded process) and nothing that only
// the raw child does (ambient capabilities, the early setgroups) or that
// would fail in the vfork child without saying which step failed (a
// credential change or a cgroup that refuses the child: ForkExec reports
// those like a failed exec).
func threadJoinable(s *Spec) bool {
	if s.User != nil || s.KeepCaps || s.DropGroupsEarly || s.SetGroups || s.UID >= 0 || s.GID >= 0 || s.CgroupFd >= 0 {
		return false
	}
	for _, j := range s.Tolerant {
		if j.Mask&uint32(namespace.Time|namespace.User) != 0 {
			return false
		}
	}
	return true
}

// startOnThread is the fast path: a goroutine locked to a fresh thread
// joins the namespaces, changes root and directory on that thread (after
// unshare(CLONE_FS) gives it its own), and starts the program with
// syscall.ForkExec, whose vfork child inherits all of it. vfork shares the
// address space instead of copying it, which saves about half a
// millisecond over the raw clone. The thread is never returned to the
// scheduler.
func startOnThread(s *Spec) (*Process, error) {
	type result struct {
		proc *Process
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		proc, err := runOnThread(s)
		done <- result{proc, err}
		// Exiting while locked ends the thread, whose namespaces,
		// root and directory are no longer the process's.
	}()
	r := <-done
	return r.proc, r.err
}

var dumpableMu sync.Mutex

func runOnThread(s *Spec) (*Process, error) {
	fail := func(st Stage, idx int, err error) (*Process, error) {
		return nil, threadFail(st, idx, err)
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return nil, os.NewSyscallError("unshare", err)
	}
	if s.NoDump {
		// Dumpability belongs to the address space, which the vfork
		// child shares until it executes the program. Concurrent Starts
		// take turns, so that one cannot restore it under another.
		dumpableMu.Lock()
		defer dumpableMu.Unlock()
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
		defer unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0)
	}
	if err := threadSteps(s); err != nil {
		return nil, err
	}
	path, err := lookPath(s.Path, s.Env)
	if err != nil {
		return fail(StageExec, 0, err)
	}
	files := make([]uintptr, 3, 3+len(s.ExtraFiles))
	for i := range files {
		files[i] = uintptr(i)
		if s.Stdio[i] >= 0 {
			files[i] = uintptr(s.Stdio[i])
		}
	}
	for _, fd := range s.ExtraFiles {
		files = append(files, uintptr(fd)) // checked by Start
	}
	pidfd := -1
	sys := &syscall.SysProcAttr{PidFD: &pidfd}
	attr := &syscall.ProcAttr{Env: s.Env, Files: files, Sys: sys}
	pid, err := syscall.ForkExec(path, s.Argv, attr)
	if err == syscall.ENOEXEC {
		// execvp(3) hands a file the kernel cannot execute to the shell.
		pid, err = syscall.ForkExec("/bin/sh", append([]string{"/bin/sh", path}, s.Argv[1:]...), attr)
	}
	if err != nil {
		return fail(StageExec, 0, err)
	}
	return &Process{Pid: pid, Pidfd: pidfd}, nil
}

// pidJoinIndex is the Tolerant index whose message describes a failed PID
// pre-join: the pidfd entry or the PID namespace file.
func pidJoinIndex(s *Spec) int {
	for i, j := range s.Tolerant {
		if j.Mask&uint32(namespace.PID) != 0 {
			return i
		}
	}
	return -1
}

// lookPath finds the program as execvp(3) would, from this thread's root
// and directory: a missing file moves on to the next PATH entry, a
// permission error is remembered, anything else stops the search.
func lookPath(program string, env []string) (string, error) {
	var last error = syscall.ENOENT
	sawAccess := false
	for _, c := range Candidates(program, env) {
		var st unix.Stat_t
		err := unix.Stat(c, &st)
		if err == nil {
			if st.Mode&unix.S_IFMT == unix.S_IFDIR {
				err = syscall.EACCES
			} else if err = unix.Access(c, unix.X_OK); err == nil {
				return c, nil
			}
		}
		switch err {
		case syscall.EACCES:
			sawAccess = true
		case syscall.ENOENT, syscall.ENOTDIR, syscall.ESTALE, syscall.ENODEV, syscall.ETIMEDOUT:
		default:
			return "", err
		}
		last = err
	}
	if sawAccess {
		return "", syscall.EACCES
	}
	return "", last
}

// threadSteps runs, on the calling locked thread (whose fs_struct is its
// own), the steps a thread can carry out for the program or for Do's fn:
// the PID pre-join, the joins, the read-only copy, the root and the
// working directory. Failures are ChildErrors as the raw child reports them.
func threadSteps(s *Spec) error {
	if s.PrejoinPID >= 0 {
		if err := unix.Setns(s.PrejoinPID, int(s.PIDMask)); err != nil {
			return threadFail(StageJoin, pidJoinIndex(s), err)
		}
	}
	for i, j := range s.Tolerant {
		if err := unix.Setns(j.Fd, int(j.Mask)); err != nil {
			return threadFail(StageJoin, i, err)
		}
	}
	if s.ReadOnly {
		// The thread has its own fs_struct, so it may take a private
		// copy of the mount namespace it joined; the bounding set is per
		// thread too, and the vfork child inherits both.
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			return threadFail(StagePrivateMounts, 0, err)
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			return threadFail(StagePrivateMounts, 0, err)
		}
		attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV}
		if err := unix.MountSetattr(unix.AT_FDCWD, "/", unix.AT_RECURSIVE, attr); err != nil {
			return threadFail(StageReadOnly, 0, err)
		}
		// As rawAllowDevices: a device that cannot be allowed stays
		// unusable.
		for _, dev := range ReadOnlyDevices {
			if unix.Mount(dev, dev, "", unix.MS_BIND, "") == nil {
				unix.MountSetattr(unix.AT_FDCWD, dev, 0, &unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_NODEV})
			}
		}
		for _, c := range ReadOnlyDroppedCaps {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && err != unix.EINVAL {
				return threadFail(StageReadOnly, 0, err)
			}
		}
	}
	if s.RootFd >= 0 {
		if err := unix.Fchdir(s.RootFd); err != nil {
			return threadFail(StageRootDir, 0, err)
		}
		if err := unix.Chroot("."); err != nil {
			return threadFail(StageChroot, 0, err)
		}
		if err := unix.Chdir("/"); err != nil {
			return threadFail(StageChdirRoot, 0, err)
		}
	}
	if s.WdnsPath != "" {
		if err := unix.Chdir(s.WdnsPath); err != nil {
			return threadFail(StageWdns, 0, err)
		}
	} else if s.CwdFd >= 0 {
		if err := unix.Fchdir(s.CwdFd); err != nil {
			return threadFail(StageCwd, 0, err)
		}
	}
	if s.CheckCwd {
		var buf [4096]byte
		n, err := unix.Getcwd(buf[:])
		if err != nil || n == 0 || buf[0] != '/' {
			return threadFail(StageCwdEscape, 0, syscall.EXDEV)
		}
	}
	return nil
}

// threadFail is a thread step's failure as the raw child would report it.
func threadFail(st Stage, idx int, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	return &ChildError{Stage: st, Index: idx, Errno: errno}
}
