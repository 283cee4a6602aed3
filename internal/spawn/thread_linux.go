package spawn

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/nsxproject/nsx/namespace"
	"golang.org/x/sys/unix"
)

// walkThread walks the step table for Do (execDo) on the calling locked
// thread, whose fs_struct is its own: the PID pre-join, the joins in their
// two passes, the read-only copy, root and directory, in the table's order.
// Failures are ChildErrors as the raw child reports them.
func walkThread(s *Spec, ex executors) error {
	joined := make([]bool, len(s.Tolerant))
	for i := range steps {
		row := &steps[i]
		if row.runs&ex == 0 {
			continue
		}
		switch row.id {
		case stepPrejoinPID:
			if s.PrejoinPID >= 0 {
				if err := unix.Setns(s.PrejoinPID, int(s.PIDMask)); err != nil {
					return threadFail(StageJoin, pidJoinIndex(s), err)
				}
			}
		case stepJoinTolerant:
			for i, j := range s.Tolerant {
				joined[i] = unix.Setns(j.Fd, int(j.Mask)) == nil
			}
		case stepJoinRetry:
			for i, j := range s.Tolerant {
				if joined[i] {
					continue
				}
				if err := unix.Setns(j.Fd, int(j.Mask)); err != nil {
					return threadFail(StageJoin, i, err)
				}
			}
		case stepReadOnly:
			if s.ReadOnly {
				if err := threadReadOnly(); err != nil {
					return err
				}
			}
		case stepRootAndDir:
			if err := threadRootAndDir(s); err != nil {
				return err
			}
		default:
			// unsupported keeps specs that need this row off threads.
			return fmt.Errorf("spawn: step %d on a thread", row.id)
		}
	}
	return nil
}

// threadReadOnly is the read-only copy on a thread. The thread has its own
// fs_struct, so it may take a private copy of the mount namespace it
// joined; the bounding set is per thread too, and the vfork child inherits
// both.
func threadReadOnly() error {
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
	// As rawAllowDevices: a device that cannot be allowed stays unusable.
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
	return nil
}

// threadRootAndDir is enterRootAndDir on a thread.
func threadRootAndDir(s *Spec) error {
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

// threadFail is a thread step's failure as the raw child would report it.
func threadFail(st Stage, idx int, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err
	}
	return &ChildError{Stage: st, Index: idx, Errno: errno}
}
