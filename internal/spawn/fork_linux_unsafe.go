package spawn

// This file is the only unsafe code of nsx. Everything below runs in a child
// created by a raw clone of a multithreaded Go process, so after the clone it
// may only call //go:nosplit functions that make raw system calls: no
// allocation, no stack growth (runtime_BeforeFork makes any attempt crash
// loudly), no pointer writes, no locks, no Go scheduler. The parent prepares
// every argument in rawSpec beforehand.
//
// The runtime hooks are linknamed the way gVisor does it; the runtime keeps
// them for outside users (go.dev/issue/67401), and TestForkHooksPresent
// fails at link time if they disappear.

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()

const (
	sysClone3   = 435
	cloneIntoCG = 0x200000000 // CLONE_INTO_CGROUP
	clonePidfd  = 0x1000      // CLONE_PIDFD

	prSetDumpable = 4
	prCapAmbient  = 47
	prCapAmbRaise = 2
	capVersion3   = 0x20080522

	fDupfdCloexec = 1030
	fSetfd        = 2

	wUntraced = 2

	atFdcwd = ^uintptr(99) // AT_FDCWD, -100, as a system call argument
)

// fork clones the calling thread into a child that runs s and executes the
// program. It returns the child's PID and a pidfd (or -1) in the parent.
//
//go:norace
//go:nocheckptr
//go:noinline
func fork(s *rawSpec) (pid int, pidfd int, err syscall.Errno) {
	syscall.ForkLock.Lock()
	runtimeBeforeFork()
	r1, _, e1 := syscall.RawSyscall6(sysClone3, uintptr(unsafe.Pointer(&s.clone)), unsafe.Sizeof(s.clone), 0, 0, 0, 0)
	if e1 == syscall.ENOSYS && s.clone.cgroup == 0 {
		// Kernel before 5.3: a plain fork, without a pidfd.
		s.pidfd = -1
		r1, _, e1 = syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	}
	if e1 != 0 || r1 != 0 {
		runtimeAfterFork()
		syscall.ForkLock.Unlock()
		if e1 != 0 {
			return 0, -1, e1
		}
		return int(r1), int(s.pidfd), 0
	}
	// In the child.
	runtimeAfterForkInChild()
	childMain(s)
	return 0, 0, 0 // not reached
}

// childMain runs the sequence and reports its failure; it never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childMain(s *rawSpec) {
	st, idx, errno := sequence(s, true)
	var rep report
	rep.stage, rep.index, rep.errno = st, idx, int32(errno)
	syscall.RawSyscall(syscall.SYS_WRITE, uintptr(s.errPipe), uintptr(unsafe.Pointer(&rep)), unsafe.Sizeof(rep))
	code := uintptr(1)
	if st == StageExec {
		code = 126
		if errno == syscall.ENOENT {
			code = 127
		}
	}
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, code, 0, 0)
	}
}

// runInPlace runs the sequence on the calling thread, for --no-fork. It
// returns only on failure. The caller has locked the thread and unshared its
// fs_struct; credentials are per thread in the kernel and execve takes the
// calling thread's, so the other threads of the process are unaffected
// until the exec replaces them.
//
//go:norace
//go:nocheckptr
func runInPlace(s *rawSpec) (Stage, int32, syscall.Errno) {
	syscall.ForkLock.Lock()
	defer syscall.ForkLock.Unlock()
	return sequence(s, false)
}

// sequence joins, changes root and directory, forks for a PID namespace if
// asked, drops credentials and executes the program.
//
//go:nosplit
//go:norace
//go:nocheckptr
func sequence(s *rawSpec, inChild bool) (Stage, int32, syscall.Errno) {
	var e syscall.Errno
	if s.nodump {
		syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
	}
	if st, e := arrangeStdio(s); e != 0 {
		return st, 0, e
	}
	if s.us.active {
		if st, e := unshareCreate(s); e != 0 {
			return st, 0, e
		}
	}

	// util-linux drops supplementary groups while still privileged in the
	// caller's user namespace, and only complains later if that failed and
	// the second try inside the target's also fails.
	earlyGroupsFailed := false
	if s.setgroupsEarly {
		_, _, e = syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0)
		earlyGroupsFailed = e != 0
	}

	// Pass 1 joins everything but the user namespace with the caller's
	// capabilities and forgives failures; pass 2 joins the user namespace
	// first and then whatever pass 1 could not, and fails on any error.
	var done uint32
	for i := 0; i < s.njoins && i < maxJoins; i++ {
		j := &s.joins[i]
		if j.fatal {
			continue
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_SETNS, uintptr(j.fd), uintptr(j.nstype), 0); e == 0 {
			done |= 1 << uint(i)
		}
	}
	for i := 0; i < s.njoins && i < maxJoins; i++ {
		j := &s.joins[i]
		if !j.fatal || (j.sameAs >= 0 && done&(1<<uint(j.sameAs)) != 0) {
			continue
		}
		if _, _, e = syscall.RawSyscall(unix.SYS_SETNS, uintptr(j.fd), uintptr(j.nstype), 0); e != 0 {
			return StageJoin, int32(i), e
		}
	}

	if s.readOnly {
		if st, e := rawReadOnlyCopy(s); e != 0 {
			return st, 0, e
		}
	}

	if s.rootFd >= 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_FCHDIR, uintptr(s.rootFd), 0, 0); e != 0 {
			return StageRootDir, 0, e
		}
		if _, _, e = syscall.RawSyscall(syscall.SYS_CHROOT, uintptr(unsafe.Pointer(&dot[0])), 0, 0); e != 0 {
			return StageChroot, 0, e
		}
		if _, _, e = syscall.RawSyscall(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(&slash[0])), 0, 0); e != 0 {
			return StageChdirRoot, 0, e
		}
	}
	if s.wdnsPath != 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_CHDIR, s.wdnsPath, 0, 0); e != 0 {
			return StageWdns, 0, e
		}
	} else if s.cwdFd >= 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_FCHDIR, uintptr(s.cwdFd), 0, 0); e != 0 {
			return StageCwd, 0, e
		}
	}
	if s.checkCwd {
		// The kernel prefixes a directory that cannot be reached from
		// the root with "(unreachable)", so a path not starting with '/'
		// means the program would start outside its root.
		n, _, e := syscall.RawSyscall(syscall.SYS_GETCWD, uintptr(s.cwdBuf), s.cwdLen, 0)
		if e != 0 || n == 0 || *(*byte)(s.cwdBuf) != '/' {
			return StageCwdEscape, 0, syscall.EXDEV
		}
	}

	if s.forkForPID && inChild {
		// The PID namespace applies to children only: the program runs
		// in a grandchild, and this process relays its fate.
		r1, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if e != 0 {
			return StageFork, 0, e
		}
		if r1 != 0 {
			// This process never executes anything, so close-on-exec
			// never fires for it: close every fd above stdio, or it
			// would hold nsx's pins and the program's pipes open for
			// the program's whole life.
			if _, _, e := syscall.RawSyscall(unix.SYS_CLOSE_RANGE, 3, ^uintptr(0), 0); e != 0 {
				for fd := uintptr(3); fd < 65536; fd++ {
					syscall.RawSyscall(syscall.SYS_CLOSE, fd, 0, 0)
				}
			}
			relay(int(r1))
		}
	}
	if s.us.active {
		if s.forkForPID && inChild {
			unshareAfterFork(s)
		}
		if st, e := unshareEnter(s); e != 0 {
			return st, 0, e
		}
	}

	if s.setgroups {
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETGROUPS, 0, 0, 0); e != 0 && (!s.setgroupsEarly || earlyGroupsFailed) {
			return StageSetgroups, 0, e
		}
	}
	if s.gid >= 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETGID, uintptr(s.gid), 0, 0); e != 0 {
			return StageSetgid, 0, e
		}
	}
	if s.uid >= 0 {
		if _, _, e = syscall.RawSyscall(syscall.SYS_SETUID, uintptr(s.uid), 0, 0); e != 0 {
			return StageSetuid, 0, e
		}
	}
	if s.keepCaps {
		if st, e := raiseAmbient(); e != 0 {
			return st, 0, e
		}
	}
	return StageExec, 0, execute(s)
}

var (
	dot   = [2]byte{'.', 0}
	slash = [2]byte{'/', 0}
)

// rawReadOnlyCopy gives the child a private copy of the mount namespace it
// joined, makes every mount of the copy read-only in one recursive
// mount_setattr (which only adds MOUNT_ATTR_RDONLY and so never makes a
// mount more permissive), and withholds CAP_SYS_ADMIN from the program so it
// cannot remount them writable. The target's mounts are not touched.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawReadOnlyCopy(s *rawSpec) (Stage, syscall.Errno) {
	if _, _, e := syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0); e != 0 {
		return StagePrivateMounts, e
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, 0, uintptr(unsafe.Pointer(&slash[0])), 0, syscall.MS_REC|syscall.MS_PRIVATE, 0, 0); e != 0 {
		return StagePrivateMounts, e
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_MOUNT_SETATTR, atFdcwd, uintptr(unsafe.Pointer(&slash[0])), unix.AT_RECURSIVE, uintptr(unsafe.Pointer(&s.roAttr[0])), unsafe.Sizeof(s.roAttr), 0); e != 0 {
		return StageReadOnly, e
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, unix.PR_CAPBSET_DROP, unix.CAP_SYS_ADMIN, 0); e != 0 {
		return StageReadOnly, e
	}
	return StageNone, 0
}

// arrangeStdio moves the requested fds to 0, 1 and 2: first out of the way
// (close-on-exec copies above 2), then into place without close-on-exec.
//
//go:nosplit
//go:norace
//go:nocheckptr
func arrangeStdio(s *rawSpec) (Stage, syscall.Errno) {
	var tmp [3]int32
	for i := 0; i < 3; i++ {
		tmp[i] = -1
		if s.stdio[i] < 0 {
			continue
		}
		r1, _, e := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(s.stdio[i]), fDupfdCloexec, 3)
		if e != 0 {
			return StageStdio, e
		}
		tmp[i] = int32(r1)
	}
	for i := 0; i < 3; i++ {
		if tmp[i] < 0 {
			continue
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_DUP3, uintptr(tmp[i]), uintptr(i), 0); e != 0 {
			return StageStdio, e
		}
	}
	return StageNone, 0
}

// raiseAmbient makes every permitted capability inheritable and raises every
// effective one as ambient, so that it survives the execve (--keep-caps).
//
//go:nosplit
//go:norace
//go:nocheckptr
func raiseAmbient() (Stage, syscall.Errno) {
	var hdr capHeader
	var data [2]capData
	hdr.version = capVersion3
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return StageCapget, e
	}
	data[0].inheritable = data[0].permitted
	data[1].inheritable = data[1].permitted
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return StageCapset, e
	}
	for c := uintptr(0); c < 64; c++ {
		if data[c/32].effective&(1<<(c%32)) == 0 {
			continue
		}
		if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbRaise, c, 0, 0, 0); e != 0 {
			return StageAmbient, e
		}
	}
	return StageNone, 0
}

// execute tries the candidate paths as execvp(3) does: on to the next one
// for a missing file, remembering a permission error, stopping at any other
// error; a file the kernel cannot execute is handed to /bin/sh.
//
//go:nosplit
//go:norace
//go:nocheckptr
func execute(s *rawSpec) syscall.Errno {
	last := syscall.ENOENT
	sawAccess := false
	for i := 0; i < s.ncands && i < len(s.cands); i++ {
		_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, s.cands[i], s.argv, s.envp)
		if e == syscall.ENOEXEC {
			*(*uintptr)(s.shSlot) = s.cands[i]
			_, _, e = syscall.RawSyscall(syscall.SYS_EXECVE, s.shPath, s.shArgv, s.envp)
		}
		switch e {
		case syscall.EACCES:
			sawAccess = true
		case syscall.ENOENT, syscall.ENOTDIR, syscall.ESTALE, syscall.ENODEV, syscall.ETIMEDOUT:
		default:
			return e
		}
		last = e
	}
	if sawAccess {
		return syscall.EACCES
	}
	return last
}

// relay waits for the grandchild and mirrors it: a stop stops this process
// too and a continue is passed on; an exit or a death by signal ends this
// process the same way. It never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func relay(pid int) {
	var status uint32
	self, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
	for {
		_, _, e := syscall.RawSyscall6(syscall.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(&status)), wUntraced, 0, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			break
		}
		// The wait status layout of wait(2), decoded by hand because
		// syscall.WaitStatus's methods are not guaranteed to be inlined.
		sig := status & 0x7f
		switch {
		case status&0xff == 0x7f: // stopped
			// As Process.Wait: a stop already undone by a continue
			// (Ctrl-Z, then fg) is not relayed.
			if !rawConsumeContinued(pid) {
				syscall.RawSyscall(syscall.SYS_KILL, self, uintptr(syscall.SIGSTOP), 0)
				syscall.RawSyscall(syscall.SYS_KILL, uintptr(pid), uintptr(syscall.SIGCONT), 0)
				rawConsumeContinued(pid)
			}
			continue
		case sig == 0: // exited
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, uintptr(status>>8&0xff), 0, 0)
		default: // killed
			// A signal inherited as ignored (the runtime only resets the
			// ones it handles) must not keep this process alive.
			var sa [4]uint64 // struct sigaction with SIG_DFL
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa[0])), 0, 8, 0, 0)
			set := uint64(1) << (sig - 1)
			syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
			syscall.RawSyscall(syscall.SYS_KILL, self, uintptr(sig), 0)
		}
		break
	}
	for {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 1, 0, 0)
	}
}

// rawConsumeContinued is consumeContinued with raw system calls.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawConsumeContinued(pid int) bool {
	var si [128]byte // siginfo_t; si_code is the third int32
	_, _, e := syscall.RawSyscall6(syscall.SYS_WAITID, unix.P_PID, uintptr(pid), uintptr(unsafe.Pointer(&si[0])), unix.WCONTINUED|unix.WNOHANG, 0, 0)
	return e == 0 && *(*int32)(unsafe.Pointer(&si[8])) == cldContinued
}

// cstr returns the address of a NUL-terminated copy of s and the copy, which
// the caller keeps alive.
func cstr(s string) (uintptr, []byte) {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return uintptr(unsafe.Pointer(&b[0])), b
}

// cstrv returns the address of a NUL-terminated array of C strings.
func cstrv(ss []string, keep *[][]byte) (uintptr, []uintptr) {
	v := make([]uintptr, len(ss)+1)
	for i, s := range ss {
		var b []byte
		v[i], b = cstr(s)
		*keep = append(*keep, b)
	}
	return uintptr(unsafe.Pointer(&v[0])), v
}

// pidfdAddr lets the parent point clone3 at the spec's pidfd slot.
func pidfdAddr(s *rawSpec) uint64 { return uint64(uintptr(unsafe.Pointer(&s.pidfd))) }

func addrOfByte(b *byte) unsafe.Pointer       { return unsafe.Pointer(b) }
func addrOfUintptr(u *uintptr) unsafe.Pointer { return unsafe.Pointer(u) }

// DieOfSignal ends this process with sig the way the child ended: with the
// default action, so a shell sees 128+sig. It returns only if that fails.
//
// The Go runtime handles most signals itself (and replaced any disposition
// inherited as ignored), so the default action is restored and the signal
// unblocked before it is raised on this thread.
func DieOfSignal(sig syscall.Signal) {
	type sigaction struct {
		handler  uintptr
		flags    uint64
		restorer uintptr
		mask     uint64
	}
	var sa sigaction // SIG_DFL
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	set := uint64(1) << (uint(sig) - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}
