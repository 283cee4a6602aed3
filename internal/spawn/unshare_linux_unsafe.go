package spawn

// The raw child's steps for creating namespaces (nsx unshare). They run in
// the same forked child as the steps of fork_linux_unsafe.go and obey the
// same rules (see there): //go:nosplit, one small function per step called
// by the driver, a Stage returned with the errno in s.fail, scratch memory
// in the spec rather than on the stack, no slice indexing, and sys() for
// calls of up to three arguments.

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

const prSetPdeathsig = 1

// unshareCreate unshares the namespaces, lets the parent configure them
// (maps, time offsets, bind mounts) while it waits, and then sets the mount
// propagation. With a fork to come it blocks SIGINT and SIGTERM, which the
// process that waits for the program ignores as util-linux's does.
//
//go:nosplit
//go:norace
//go:nocheckptr
func unshareCreate(s *rawSpec) Stage {
	u := &s.us
	// The parent's ends of the sync pipes: with them open here, the
	// parent could not make a waiting child see end of file.
	sys(syscall.SYS_CLOSE, uintptr(u.parentReady), 0, 0)
	sys(syscall.SYS_CLOSE, uintptr(u.parentGo), 0, 0)
	if u.killSig != 0 {
		// The process that relays the program's fate dies with nsx, so
		// that the program's own parent-death signal fires.
		sys(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0)
	}
	if _, e := sys(syscall.SYS_UNSHARE, u.flags, 0, 0); e != 0 {
		return failWith(s, StageUnshare, e)
	}
	unshareHandshake(u)
	if u.propagation != 0 {
		if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, 0, uintptr(unsafe.Pointer(&slash)), 0, u.propagation, 0, 0); e != 0 {
			return failWith(s, StagePropagation, e)
		}
	}
	if u.fork {
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, uintptr(unsafe.Pointer(&u.sigset)), 0, 8, 0, 0)
	}
	return StageNone
}

// unshareHandshake tells the parent that this process is ready and waits
// for its go-ahead. End of file instead means the parent failed and has
// said why: the process ends quietly. (No EINTR loop: every handler is
// SIG_DFL in the child, so no system call is interrupted.)
//
//go:nosplit
//go:norace
//go:nocheckptr
func unshareHandshake(u *rawUnshare) {
	sys(syscall.SYS_WRITE, uintptr(u.ready), uintptr(unsafe.Pointer(&u.buf)), 1)
	if n, _ := sys(syscall.SYS_READ, uintptr(u.goAhead), uintptr(unsafe.Pointer(&u.buf)), 1); n != 1 {
		for {
			sys(syscall.SYS_EXIT_GROUP, 1, 0, 0)
		}
	}
}

// unshareAfterFork runs in the program's process right after the fork: it
// restores the signal mask, arms --kill-child, and waits for the parent once
// more when the parent binds a namespace that only exists now (a PID
// namespace gets its init with this process).
//
//go:nosplit
//go:norace
//go:nocheckptr
func unshareAfterFork(s *rawSpec) {
	u := &s.us
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&u.sigset)), 0, 8, 0, 0)
	if u.killSig != 0 {
		sys(syscall.SYS_PRCTL, prSetPdeathsig, u.killSig, 0)
	}
	if u.syncAfterFork {
		unshareHandshake(u)
	}
}

// unshareEnter changes root and directory and mounts /proc, in the
// process that executes the program.
//
//go:nosplit
//go:norace
//go:nocheckptr
func unshareEnter(s *rawSpec) Stage {
	u := &s.us
	if u.root != 0 {
		if _, e := sys(syscall.SYS_CHROOT, u.root, 0, 0); e != 0 {
			return failWith(s, StageNewRoot, e)
		}
	}
	if u.dir != 0 {
		if _, e := sys(syscall.SYS_CHDIR, u.dir, 0, 0); e != 0 {
			return failWith(s, StageNewDir, e)
		}
	}
	if u.procDir != 0 {
		if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, u.procSource, u.procDir, u.procSource, syscall.MS_NOSUID|syscall.MS_NOEXEC|syscall.MS_NODEV, 0, 0); e != 0 {
			return failWith(s, StageMountProc, e)
		}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, 0, u.procDir, 0, syscall.MS_PRIVATE|syscall.MS_REC, 0, 0); e != 0 {
			return failWith(s, StageMountProc, e)
		}
	}
	return StageNone
}
