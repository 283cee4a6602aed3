package spawn

// This file is the raw child's code (doc.go names the other unsafe files).
// Everything below runs in a child created by a raw clone of a
// multithreaded Go process, so after the clone it may only call
// //go:nosplit functions that make raw system calls: no allocation, no
// stack growth (runtime_BeforeFork makes any attempt crash loudly), no
// pointer writes, no locks, no Go scheduler. The parent prepares every
// argument in rawSpec beforehand.
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
	cloneVM     = 0x100       // CLONE_VM
	cloneVfork  = 0x4000      // CLONE_VFORK
	// CLONE_CLEAR_SIGHAND: handled signals start at SIG_DFL in the child.
	cloneClearSighand = 0x100000000

	prSetDumpable = 4
	prCapAmbient  = 47
	prCapAmbRaise = 2
	capVersion3   = 0x20080522

	fDupfdCloexec = 1030
	fSetfd        = 2

	wUntraced = 2
	wNohang   = 1

	atFdcwd = ^uintptr(99) // AT_FDCWD, -100, as a system call argument
)

// fork clones the calling thread into a child that runs s and executes the
// program. It returns the child's PID and a pidfd (or -1) in the parent.
//
//go:norace
//go:nocheckptr
//go:noinline
func fork(s *rawSpec) (pid int, pidfd int, err syscall.Errno) {
	s.ex = execRaw
	clearChildSignals(s)
	syscall.ForkLock.Lock()
	runtimeBeforeFork()
	r1, _, e1 := syscall.RawSyscall6(sysClone3, uintptr(unsafe.Pointer(&s.clone)), unsafe.Sizeof(s.clone), 0, 0, 0, 0)
	if withoutClearSighand(s, e1) {
		r1, _, e1 = syscall.RawSyscall6(sysClone3, uintptr(unsafe.Pointer(&s.clone)), unsafe.Sizeof(s.clone), 0, 0, 0, 0)
	}
	if e1 == syscall.ENOSYS && s.clone.cgroup == 0 {
		// Kernel before 5.3: a plain fork, without a pidfd.
		s.pidfd = -1
		s.clearSighand = false
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
	restoreChildSignals(s)
	childMain(s)
	return 0, 0, 0 // not reached
}

// clearChildSignals readies the signal state the child starts with, as
// runtimeAfterForkInChild would make it, at less cost: clone3 resets the
// handlers (CLONE_CLEAR_SIGHAND, Linux 5.5; ignored signals stay ignored)
// instead of the child's one rt_sigaction per signal, about 64 calls that
// the parent waits for, and the child restores the calling thread's mask,
// read here (runtimeBeforeFork blocks every signal). The caller keeps its
// goroutine on the cloning thread, whose mask it is.
//
//go:norace
//go:nocheckptr
func clearChildSignals(s *rawSpec) {
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, 0, uintptr(unsafe.Pointer(&s.childMask)), 8, 0, 0)
	s.clearSighand = e == 0 && !useForkHook
	s.clone.flags &^= cloneClearSighand
	if s.clearSighand {
		s.clone.flags |= cloneClearSighand
	}
}

// withoutClearSighand readies a second clone3 after one that failed with e:
// a kernel before 5.5 refuses CLONE_CLEAR_SIGHAND with EINVAL, and the
// child then takes the runtime's hook. It runs between runtimeBeforeFork
// and the clone, so it must not check its stack.
//
//go:nosplit
//go:norace
func withoutClearSighand(s *rawSpec, e syscall.Errno) bool {
	if e != syscall.EINVAL || !s.clearSighand {
		return false
	}
	s.clearSighand = false
	s.clone.flags &^= cloneClearSighand
	return true
}

// useForkHook makes the children restore their signals with
// runtimeAfterForkInChild, as on a kernel without CLONE_CLEAR_SIGHAND, so
// that tests reach that path too.
var useForkHook bool

// restoreChildSignals is the child's part of clearChildSignals, or the
// runtime's hook where clone3 could not clear the handlers.
//
//go:nosplit
//go:norace
//go:nocheckptr
func restoreChildSignals(s *rawSpec) {
	if !s.clearSighand {
		runtimeAfterForkInChild()
		return
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&s.childMask)), 0, 8, 0, 0)
}

// vfork starts the raw child in this process's memory (CLONE_VM and
// CLONE_VFORK): no page tables are copied, and the calling thread sleeps
// until the child executes the program or exits. The child's failure report
// is then in s.fail; nothing is sent over a pipe. The caller keeps the
// goroutine on its thread, and handles what belongs to the shared address
// space (dumpability) around the call.
//
//go:norace
//go:nocheckptr
//go:noinline
func vfork(s *rawSpec) (pid int, pidfd int, err syscall.Errno) {
	s.ex = execShared
	s.fail = report{}
	clearChildSignals(s)
	s.clone.flags |= cloneVM | cloneVfork
	syscall.ForkLock.Lock()
	r1, e1 := sharedClone(s)
	if withoutClearSighand(s, e1) {
		r1, e1 = sharedClone(s)
	}
	syscall.ForkLock.Unlock()
	s.clone.flags &^= cloneVM | cloneVfork
	if e1 != 0 {
		return 0, -1, e1
	}
	return int(r1), int(s.pidfd), 0
}

// sharedClone is the frame that the child and the calling thread both
// return into from clone3Shared. The child runs on from here into
// childMain and never returns. The caller, resumed once the child is gone,
// only restores what runtimeBeforeFork changed and returns clone3Shared's
// results, which it wrote last: nothing else of this frame, where the child
// ran, is read again.
//
//go:norace
//go:nocheckptr
//go:noinline
func sharedClone(s *rawSpec) (uintptr, syscall.Errno) {
	runtimeBeforeFork()
	r1, e1 := clone3Shared(uintptr(unsafe.Pointer(&s.clone)), unsafe.Sizeof(s.clone))
	if r1 == 0 && e1 == 0 {
		restoreChildSignals(s)
		childMain(s)
	}
	runtimeAfterFork()
	return r1, syscall.Errno(e1)
}

// The child's code below must fit the linker's nosplit stack budget (800
// bytes on amd64) in every build, including the unoptimised debug build
// (-gcflags=all=-N -l, where every local and temporary gets its own slot)
// and the fuzzing build. So: each step is its own small function that the
// driver calls one after the other (the chain is as deep as one step, not
// the sum of them); a step reports only a Stage and leaves the errno and
// the join index in s.fail; scratch memory (wait statuses, siginfo, the
// capability sets) lives in the heap-allocated spec, never on the stack;
// arrays are indexed with unsafe.Add, because a bounds check calls
// runtime.panicBounds, which may grow the stack; and system calls of up to
// three arguments go through unix.RawSyscallNoError, an assembly function
// without a frame, rather than syscall.RawSyscall's three Go frames.

// sys makes a system call of up to three arguments and returns its result
// and errno.
//
//go:nosplit
//go:norace
//go:nocheckptr
func sys(trap, a1, a2, a3 uintptr) (uintptr, syscall.Errno) {
	r, _ := unix.RawSyscallNoError(trap, a1, a2, a3)
	if r > maxErrnoRet {
		return 0, syscall.Errno(-r)
	}
	return r, 0
}

// maxErrnoRet is the largest return value that is not a negated errno
// (the kernel returns -4095..-1 for errors).
const maxErrnoRet = ^uintptr(4095)

// failWith records errno as the reason of a failed step.
//
//go:nosplit
//go:norace
//go:nocheckptr
func failWith(s *rawSpec, st Stage, e syscall.Errno) Stage {
	s.fail.errno = int32(e)
	return st
}

// childMain runs the sequence and reports its failure; it never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func childMain(s *rawSpec) {
	s.fail.stage = sequence(s, s.ex)
	if s.fail.stage == stageRelay {
		// Called from here rather than from sequence, to keep the
		// nosplit chain short.
		relay(s, s.scratch.relayPid)
	}
	sys(syscall.SYS_WRITE, uintptr(s.errPipe), uintptr(unsafe.Pointer(&s.fail)), unsafe.Sizeof(s.fail))
	code := uintptr(1)
	if s.fail.stage == StageExec {
		code = 126
		if s.fail.errno == int32(syscall.ENOENT) {
			code = 127
		}
	}
	for {
		sys(syscall.SYS_EXIT_GROUP, code, 0, 0)
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
	st := sequence(s, execInPlace)
	return st, s.fail.index, syscall.Errno(s.fail.errno)
}

// sequence walks the step table (steps_linux.go) for the raw executor ex
// (execRaw in the child, execInPlace for --no-fork): it runs each row ex
// runs, in order, and returns the stage that failed, with the errno in
// s.fail (or stageRelay in a process that must become the relay). The table
// is read as plain data (rawRows); each row is one call of rawStep.
//
//go:nosplit
//go:norace
//go:nocheckptr
func sequence(s *rawSpec, ex executors) Stage {
	for i := 0; i < int(numSteps); i++ {
		if rawRowAt(i).runs&ex == 0 {
			continue
		}
		if st := rawStep(s, rawRowAt(i).id); st != StageNone {
			return st
		}
	}
	return StageNone // not reached: the exec row returns a stage
}

// rawRowAt returns &rawRows[i] without a bounds check; i < numSteps.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawRowAt(i int) *rawStepRow {
	return (*rawStepRow)(unsafe.Add(unsafe.Pointer(&rawRows), uintptr(i)*unsafe.Sizeof(rawRows[0])))
}

// rawStep runs one row of the table with raw system calls. A row whose
// fields in s are unset does nothing. No variable here: every local deepens
// the nosplit chain of the debug build (-N -l).
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawStep(s *rawSpec, id step) Stage {
	switch id {
	case stepNoDump:
		if s.nodump {
			sys(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
		}
	case stepExtraAside:
		if s.nextra > 0 && extraAside(s) != StageNone {
			return StageStdio
		}
	case stepStdio:
		return arrangeStdio(s)
	case stepUnshareCreate:
		if s.us.active {
			return unshareCreate(s)
		}
	case stepGroupsEarly:
		// util-linux drops supplementary groups while still privileged
		// in the caller's user namespace, and only complains later if
		// that failed and the second try inside the target's also fails.
		if s.setgroupsEarly {
			rawGroupsEarly(s)
		}
	case stepSingleThread, stepCgroup, stepPrejoinPID:
		// The raw child is a process of one thread; clone3 put it in
		// its cgroup, and the parent thread made the PID pre-join (in
		// place no process is born, so there is nothing to pre-join).
	case stepJoinTolerant:
		return joinPass(s, joinTolerant)
	case stepJoinUser:
		return joinPass(s, joinUser)
	case stepJoinRetry:
		return joinPass(s, joinRetry)
	case stepReadOnly:
		if s.readOnly {
			return rawReadOnly(s)
		}
	case stepRootAndDir:
		return enterRootAndDir(s)
	case stepForkForPID:
		if s.forkForPID {
			return forkAndRelay(s)
		}
	case stepUnshareEnter:
		if s.us.active {
			return rawUnshareEnter(s)
		}
	case stepDebugProc:
		if s.debugProc && rawDebugProc(s) != StageNone {
			return StageDebugProc
		}
	case stepCredentials:
		return dropCredentials(s)
	case stepAmbientCaps:
		if s.keepCaps {
			return raiseAmbient(s)
		}
	case stepExtraInPlace:
		if s.nextra > 0 && extraInPlace(s) != StageNone {
			return StageStdio
		}
	case stepExec:
		if s.scratch.grandchild && !s.us.active {
			dieWithRelay(s)
		}
		return failWith(s, StageExec, execute(s))
	}
	return StageNone
}

// rawGroupsEarly tries setgroups(0) and remembers whether it failed.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawGroupsEarly(s *rawSpec) {
	_, e := sys(syscall.SYS_SETGROUPS, 0, 0, 0)
	s.scratch.earlyGroupsFailed = e != 0
}

// rawReadOnly makes the read-only copy, allows the devices and drops the
// capabilities.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawReadOnly(s *rawSpec) Stage {
	if st := rawReadOnlyCopy(s); st != StageNone {
		return st
	}
	rawAllowDevices(s)
	return rawDropCaps(s)
}

// rawUnshareEnter finishes nsx unshare's namespaces (after the fork for a
// new PID namespace, if any: forkForPID is never set in place).
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawUnshareEnter(s *rawSpec) Stage {
	if s.forkForPID {
		unshareAfterFork(s)
	}
	return unshareEnter(s)
}

// joinAt returns &s.joins[i] without a bounds check; i < maxJoins.
//
//go:nosplit
//go:norace
//go:nocheckptr
func joinAt(s *rawSpec, i int) *rawJoin {
	return (*rawJoin)(unsafe.Add(unsafe.Pointer(&s.joins), uintptr(i)*unsafe.Sizeof(s.joins[0])))
}

// joinPass makes the setns calls of one pass. The tolerant pass joins
// everything but the user namespace with the caller's capabilities and
// forgives failures; then the user namespace; then the retry pass joins
// whatever the first could not, and fails on any error.
//
//go:nosplit
//go:norace
//go:nocheckptr
func joinPass(s *rawSpec, pass uint8) Stage {
	if pass == joinTolerant {
		s.scratch.joined = 0
	}
	for i := 0; i < s.njoins && i < maxJoins; i++ {
		j := joinAt(s, i)
		if j.pass != pass || (pass == joinRetry && j.sameAs >= 0 && s.scratch.joined&(1<<uint(j.sameAs)) != 0) {
			continue
		}
		_, e := sys(unix.SYS_SETNS, uintptr(j.fd), uintptr(j.nstype), 0)
		if e == 0 && pass == joinTolerant {
			s.scratch.joined |= 1 << uint(i)
		} else if e != 0 && pass != joinTolerant {
			s.fail.index = int32(i)
			return failWith(s, StageJoin, e)
		}
	}
	return StageNone
}

// enterRootAndDir changes the root and the working directory and checks
// that the directory is inside the root.
//
//go:nosplit
//go:norace
//go:nocheckptr
func enterRootAndDir(s *rawSpec) Stage {
	if s.rootFd >= 0 {
		if _, e := sys(syscall.SYS_FCHDIR, uintptr(s.rootFd), 0, 0); e != 0 {
			return failWith(s, StageRootDir, e)
		}
		if _, e := sys(syscall.SYS_CHROOT, uintptr(unsafe.Pointer(&dot)), 0, 0); e != 0 {
			return failWith(s, StageChroot, e)
		}
		if _, e := sys(syscall.SYS_CHDIR, uintptr(unsafe.Pointer(&slash)), 0, 0); e != 0 {
			return failWith(s, StageChdirRoot, e)
		}
	}
	if s.wdnsPath != 0 {
		if _, e := sys(syscall.SYS_CHDIR, s.wdnsPath, 0, 0); e != 0 {
			return failWith(s, StageWdns, e)
		}
	} else if s.cwdFd >= 0 {
		if _, e := sys(syscall.SYS_FCHDIR, uintptr(s.cwdFd), 0, 0); e != 0 {
			return failWith(s, StageCwd, e)
		}
	}
	if s.checkCwd {
		// The kernel prefixes a directory that cannot be reached from
		// the root with "(unreachable)", so a path not starting with '/'
		// means the program would start outside its root.
		n, e := sys(syscall.SYS_GETCWD, uintptr(s.cwdBuf), s.cwdLen, 0)
		if e != 0 || n == 0 || *(*byte)(s.cwdBuf) != '/' {
			return failWith(s, StageCwdEscape, syscall.EXDEV)
		}
	}
	return StageNone
}

// forkAndRelay forks once more, for a PID namespace that applies to
// children only: the program runs in the grandchild, and this process
// relays its fate. It returns StageNone in the grandchild and stageRelay
// in this process, which childMain then turns into the relay.
//
// The signals nsx forwards are blocked before the fork, so that none can
// end this process before it relays them; the grandchild restores its mask
// at once, before it executes the program.
//
//go:nosplit
//go:norace
//go:nocheckptr
func forkAndRelay(s *rawSpec) Stage {
	s.scratch.sigset = 1 << (syscall.SIGCHLD - 1)
	if s.relayForward {
		s.scratch.sigset |= relayedSignals
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, uintptr(unsafe.Pointer(&s.scratch.sigset)), uintptr(unsafe.Pointer(&s.scratch.oldSigset)), 8, 0, 0); e != 0 {
		return failWith(s, StageFork, e)
	}
	s.scratch.relaySelf, _ = sys(syscall.SYS_GETPID, 0, 0, 0)
	pid, e := sys(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0)
	if e != 0 {
		return failWith(s, StageFork, e)
	}
	if pid == 0 {
		s.scratch.grandchild = true
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&s.scratch.oldSigset)), 0, 8, 0, 0)
		return StageNone
	}
	// This process never executes anything, so close-on-exec never fires
	// for it: close every fd above stdio, or it would hold nsx's pins and
	// the program's pipes open for the program's whole life.
	if _, e := sys(unix.SYS_CLOSE_RANGE, 3, ^uintptr(0), 0); e != 0 {
		for fd := uintptr(3); fd < 65536; fd++ {
			sys(syscall.SYS_CLOSE, fd, 0, 0)
		}
	}
	s.scratch.relayPid = pid
	return stageRelay
}

// dieWithRelay arms SIGKILL as the program's parent-death signal, last
// before the exec because a change of credentials clears it, and ends the
// program at once if the relay is already gone: a caller that kills the
// process it started (CommandContext) must not leave the program running
// below it. nsx unshare's relay is util-linux's waiting parent and keeps
// upstream's semantics instead, so it is not armed there. The relay is outside the
// PID namespace the program was forked into (getppid is 0 then) or, with
// none entered, the parent by its PID; a dead relay's orphan has another.
//
//go:nosplit
//go:norace
//go:nocheckptr
func dieWithRelay(s *rawSpec) {
	sys(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0)
	if ppid, _ := sys(syscall.SYS_GETPPID, 0, 0, 0); ppid != 0 && ppid != s.scratch.relaySelf {
		self, _ := sys(syscall.SYS_GETPID, 0, 0, 0)
		sys(syscall.SYS_KILL, self, uintptr(syscall.SIGKILL), 0)
	}
}

// stageRelay is what sequence returns in the process that must become the
// relay: not a failure.
const stageRelay Stage = -1

// relayedSignals is forwardedSignals as a sigset_t bit mask, computed once
// so that the child only reads it.
var relayedSignals = signalMask(forwardedSignals[:])

// siKernel is si_code SI_KERNEL: a signal the kernel generated, such as the
// terminal's INT, QUIT or WINCH to its foreground process group.
const siKernel = 0x80

// dropCredentials drops supplementary groups and sets the group and user.
//
//go:nosplit
//go:norace
//go:nocheckptr
func dropCredentials(s *rawSpec) Stage {
	if s.setgroups {
		if _, e := sys(syscall.SYS_SETGROUPS, 0, 0, 0); e != 0 && (!s.setgroupsEarly || s.scratch.earlyGroupsFailed) {
			return failWith(s, StageSetgroups, e)
		}
	}
	if s.gid >= 0 {
		if _, e := sys(syscall.SYS_SETGID, uintptr(s.gid), 0, 0); e != 0 {
			return failWith(s, StageSetgid, e)
		}
	}
	if s.uid >= 0 {
		if _, e := sys(syscall.SYS_SETUID, uintptr(s.uid), 0, 0); e != 0 {
			return failWith(s, StageSetuid, e)
		}
	}
	if s.nodump && (s.gid >= 0 || s.uid >= 0) {
		// A change of credentials made the memory dumpable as
		// fs.suid_dumpable says (possibly 1); keep it off until execve.
		sys(syscall.SYS_PRCTL, prSetDumpable, 0, 0)
	}
	return StageNone
}

var (
	dot   = [2]byte{'.', 0}
	slash = [2]byte{'/', 0}
)

// rawReadOnlyCopy gives the child a private copy of the mount namespace it
// joined and makes every mount of the copy read-only and nodev in one
// recursive mount_setattr (which only adds flags and so never makes a mount
// more permissive); rawAllowDevices and rawDropCaps follow. The target's
// mounts are not touched.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawReadOnlyCopy(s *rawSpec) Stage {
	if _, e := sys(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0); e != 0 {
		return failWith(s, StagePrivateMounts, e)
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, 0, uintptr(unsafe.Pointer(&slash)), 0, syscall.MS_REC|syscall.MS_PRIVATE, 0, 0); e != 0 {
		return failWith(s, StagePrivateMounts, e)
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_MOUNT_SETATTR, atFdcwd, uintptr(unsafe.Pointer(&slash)), unix.AT_RECURSIVE, uintptr(unsafe.Pointer(&s.roAttr)), unsafe.Sizeof(s.roAttr), 0); e != 0 {
		return failWith(s, StageReadOnly, e)
	}
	return StageNone
}

// rawAllowDevices bind-mounts each of s.roDevs onto itself and clears nodev
// on that one mount, so that /dev/null and the like keep working in the
// nodev copy. A device that cannot be allowed stays unusable, the safe side.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawAllowDevices(s *rawSpec) {
	for i := 0; i < s.nroDevs && i < len(s.roDevs); i++ {
		dev := *(*uintptr)(unsafe.Add(unsafe.Pointer(&s.roDevs), uintptr(i)*unsafe.Sizeof(s.roDevs[0])))
		if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, dev, dev, 0, syscall.MS_BIND, 0, 0); e != 0 {
			continue
		}
		syscall.RawSyscall6(unix.SYS_MOUNT_SETATTR, atFdcwd, dev, 0, uintptr(unsafe.Pointer(&s.devAttr)), unsafe.Sizeof(s.devAttr), 0)
	}
}

// rawDropCaps removes s.roDropCaps from the bounding set, so the program
// cannot have them after execve. A capability this kernel does not know
// (EINVAL) is nothing to drop.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawDropCaps(s *rawSpec) Stage {
	for c := uintptr(0); c < 64; c++ {
		if s.roDropCaps&(1<<c) == 0 {
			continue
		}
		if _, e := sys(syscall.SYS_PRCTL, unix.PR_CAPBSET_DROP, c, 0); e != 0 && e != syscall.EINVAL {
			return failWith(s, StageReadOnly, e)
		}
	}
	return StageNone
}

// rawDebugProc mounts a procfs on /proc for nsx debug, from a process born
// in the target's PID namespace: a procfs shows the PID namespace active for
// the task that mounts it, not the one for its children. In a joined user
// namespace the child first takes a mount namespace of its own, since only a
// mount namespace owned by that user namespace lets its root mount there.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawDebugProc(s *rawSpec) Stage {
	if s.debugUnshare {
		if _, e := sys(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0); e != 0 {
			return failWith(s, StageDebugProc, e)
		}
	}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_MOUNT, uintptr(unsafe.Pointer(&procName)), uintptr(unsafe.Pointer(&procPath)), uintptr(unsafe.Pointer(&procName)), syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, 0, 0); e != 0 {
		return failWith(s, StageDebugProc, e)
	}
	return StageNone
}

var (
	procName = [5]byte{'p', 'r', 'o', 'c', 0}
	procPath = [6]byte{'/', 'p', 'r', 'o', 'c', 0}
)

// arrangeStdio moves the requested fds to 0, 1 and 2: first out of the way
// (close-on-exec copies above 2), then into place without close-on-exec.
// The three slots are spelled out: a loop would index the arrays with a
// variable.
//
//go:nosplit
//go:norace
//go:nocheckptr
func arrangeStdio(s *rawSpec) Stage {
	s.fail.index = -1
	if e := stdioAside(s.stdio[0], &s.scratch.stdio[0]); e != 0 {
		return failWith(s, StageStdio, e)
	}
	if e := stdioAside(s.stdio[1], &s.scratch.stdio[1]); e != 0 {
		return failWith(s, StageStdio, e)
	}
	if e := stdioAside(s.stdio[2], &s.scratch.stdio[2]); e != 0 {
		return failWith(s, StageStdio, e)
	}
	if e := stdioInPlace(s.scratch.stdio[0], 0); e != 0 {
		return failWith(s, StageStdio, e)
	}
	if e := stdioInPlace(s.scratch.stdio[1], 1); e != 0 {
		return failWith(s, StageStdio, e)
	}
	if e := stdioInPlace(s.scratch.stdio[2], 2); e != 0 {
		return failWith(s, StageStdio, e)
	}
	return StageNone
}

// stdioAside copies src (when >= 0) to a close-on-exec fd above 2 and
// stores it in *tmp (-1 when there is nothing to move).
//
//go:nosplit
//go:norace
//go:nocheckptr
func stdioAside(src int32, tmp *int32) syscall.Errno {
	*tmp = -1
	if src < 0 {
		return 0
	}
	fd, e := sys(syscall.SYS_FCNTL, uintptr(src), fDupfdCloexec, 3)
	if e == 0 {
		*tmp = int32(fd)
	}
	return e
}

// stdioInPlace makes tmp (when >= 0) fd number dst.
//
//go:nosplit
//go:norace
//go:nocheckptr
func stdioInPlace(tmp int32, dst uintptr) syscall.Errno {
	if tmp < 0 {
		return 0
	}
	_, e := sys(syscall.SYS_DUP3, uintptr(tmp), dst, 0)
	return e
}

// extraAt returns &a[i] without a bounds check; i < maxExtraFiles.
//
//go:nosplit
//go:norace
//go:nocheckptr
func extraAt(a *[maxExtraFiles]int32, i int) *int32 {
	return (*int32)(unsafe.Add(unsafe.Pointer(a), uintptr(i)*unsafe.Sizeof(a[0])))
}

// extraAside copies every extra file (Spec.ExtraFiles) to a close-on-exec fd
// at or above 3+nextra, before anything else can change the fd table: the
// sources are then the caller's fds even when one of them is 0-2 or lies in
// 3… where another one goes. The error pipe moves up there too, so that
// placing the files cannot close it. The fds stay where they are until
// extraInPlace, because the joins and the directory changes still use the
// fds below.
//
//go:nosplit
//go:norace
//go:nocheckptr
func extraAside(s *rawSpec) Stage {
	top := uintptr(3 + s.nextra)
	if uintptr(s.errPipe) < top {
		fd, e := sys(syscall.SYS_FCNTL, uintptr(s.errPipe), fDupfdCloexec, top)
		if e != 0 {
			s.fail.index = -1
			return failWith(s, StageStdio, e)
		}
		s.errPipe = int32(fd)
	}
	for i := 0; i < s.nextra && i < maxExtraFiles; i++ {
		fd, e := sys(syscall.SYS_FCNTL, uintptr(*extraAt(&s.extra, i)), fDupfdCloexec, top)
		if e != 0 {
			s.fail.index = int32(3 + i)
			return failWith(s, StageStdio, e)
		}
		*extraAt(&s.scratch.extra, i) = int32(fd)
	}
	return StageNone
}

// extraInPlace makes the copies fds 3, 4, … without close-on-exec, as the
// last step before execve: whatever was there (a namespace fd, a stdio
// copy) is no longer needed.
//
//go:nosplit
//go:norace
//go:nocheckptr
func extraInPlace(s *rawSpec) Stage {
	for i := 0; i < s.nextra && i < maxExtraFiles; i++ {
		if _, e := sys(syscall.SYS_DUP3, uintptr(*extraAt(&s.scratch.extra, i)), uintptr(3+i), 0); e != 0 {
			s.fail.index = int32(3 + i)
			return failWith(s, StageStdio, e)
		}
	}
	return StageNone
}

// raiseAmbient makes every permitted capability inheritable and raises every
// effective one as ambient, so that it survives the execve (--keep-caps).
//
//go:nosplit
//go:norace
//go:nocheckptr
func raiseAmbient(s *rawSpec) Stage {
	hdr, data := &s.scratch.capHdr, &s.scratch.capData
	hdr.version = capVersion3
	if _, e := sys(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0); e != 0 {
		return failWith(s, StageCapget, e)
	}
	data[0].inheritable = data[0].permitted
	data[1].inheritable = data[1].permitted
	if _, e := sys(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)), 0); e != 0 {
		return failWith(s, StageCapset, e)
	}
	effective := uint64(data[1].effective)<<32 | uint64(data[0].effective)
	for c := uintptr(0); c < 64; c++ {
		if effective&(1<<c) == 0 {
			continue
		}
		// prctl ignores nothing here: arguments 4 and 5 must be 0, and
		// sys passes them as 0.
		if _, e := sys(syscall.SYS_PRCTL, prCapAmbient, prCapAmbRaise, c); e != 0 {
			return failWith(s, StageAmbient, e)
		}
	}
	return StageNone
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
		cand := *(*uintptr)(unsafe.Add(unsafe.Pointer(&s.cands), uintptr(i)*unsafe.Sizeof(s.cands[0])))
		_, e := sys(syscall.SYS_EXECVE, cand, s.argv, s.envp)
		if e == syscall.ENOEXEC {
			*(*uintptr)(s.shSlot) = cand
			_, e = sys(syscall.SYS_EXECVE, s.shPath, s.shArgv, s.envp)
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
// process the same way. A relayed signal sent to this process is passed on
// to the grandchild, except one the kernel sent to the whole foreground
// process group (the terminal's Ctrl-C), which the grandchild got too. The
// signals and SIGCHLD are blocked (forkAndRelay) and taken one at a time
// with rt_sigtimedwait. It never returns.
//
//go:nosplit
//go:norace
//go:nocheckptr
func relay(s *rawSpec, pid uintptr) {
	self, _ := sys(syscall.SYS_GETPID, 0, 0, 0)
	for {
		// A SIGCHLD may stand for several changes: look until none is left.
		for relayReap(s, self, pid) {
		}
		sig, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGTIMEDWAIT, uintptr(unsafe.Pointer(&s.scratch.sigset)), uintptr(unsafe.Pointer(&s.scratch.siginfo)), 0, 8, 0, 0)
		if e != 0 || sig == uintptr(syscall.SIGCHLD) || !s.relayForward {
			continue
		}
		if *(*int32)(unsafe.Pointer(&s.scratch.siginfo[8])) == siKernel {
			continue
		}
		sys(syscall.SYS_KILL, pid, sig, 0)
	}
}

// relayReap collects one change of the grandchild, without blocking, and
// mirrors it; it ends this process when the grandchild ended. It reports
// whether there was a change.
//
//go:nosplit
//go:norace
//go:nocheckptr
func relayReap(s *rawSpec, self, pid uintptr) bool {
	// wait4's fourth argument, rusage, is 0 as sys passes it.
	r, e := sys(syscall.SYS_WAIT4, pid, uintptr(unsafe.Pointer(&s.scratch.status)), wUntraced|wNohang)
	if e == syscall.EINTR {
		return true
	}
	if e != 0 {
		for {
			sys(syscall.SYS_EXIT_GROUP, 1, 0, 0)
		}
	}
	if r == 0 {
		return false
	}
	// The wait status layout of wait(2), decoded by hand because
	// syscall.WaitStatus's methods are not guaranteed to be inlined.
	status := s.scratch.status
	sig := uintptr(status & 0x7f)
	switch {
	case status&0xff == 0x7f: // stopped
		// As Process.Wait: a stop already undone by a continue (Ctrl-Z,
		// then fg) is not relayed.
		if !rawConsumeContinued(s, pid) {
			sys(syscall.SYS_KILL, self, uintptr(syscall.SIGSTOP), 0)
			sys(syscall.SYS_KILL, pid, uintptr(syscall.SIGCONT), 0)
			rawConsumeContinued(s, pid)
		}
		return true
	case sig == 0: // exited
		sys(syscall.SYS_EXIT_GROUP, uintptr(status>>8&0xff), 0, 0)
	default: // killed
		rawDieOfSignal(s, self, sig)
	}
	for {
		sys(syscall.SYS_EXIT_GROUP, 1, 0, 0)
	}
}

// rawDieOfSignal ends this process with sig. A signal inherited as ignored
// (the runtime only resets the ones it handles) must not keep it alive, so
// the default action is restored and the signal unblocked first.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawDieOfSignal(s *rawSpec, self, sig uintptr) {
	s.scratch.sigact = [4]uint64{} // struct sigaction with SIG_DFL
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(&s.scratch.sigact)), 0, 8, 0, 0)
	s.scratch.dieSet = uint64(1) << (sig - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&s.scratch.dieSet)), 0, 8, 0, 0)
	sys(syscall.SYS_KILL, self, sig, 0)
}

// rawConsumeContinued is consumeContinued with raw system calls.
//
//go:nosplit
//go:norace
//go:nocheckptr
func rawConsumeContinued(s *rawSpec, pid uintptr) bool {
	si := &s.scratch.siginfo // si_code is the third int32
	_, _, e := syscall.RawSyscall6(syscall.SYS_WAITID, unix.P_PID, pid, uintptr(unsafe.Pointer(si)), unix.WCONTINUED|unix.WNOHANG, 0, 0)
	return e == 0 && *(*int32)(unsafe.Pointer(&si[8])) == cldContinued
}

// cstr returns the address of a NUL-terminated copy of s, which lives as
// long as p. The copies share blocks that p keeps: a program's argv,
// environment and PATH candidates are dozens of small strings, and as many
// allocations would spread over as many size classes, each taking a fresh
// span and a page fault on nsx enter's path.
func (p *prepared) cstr(s string) uintptr {
	n := len(s) + 1
	if n > len(p.free) {
		p.free = make([]byte, max(n, cstrBlock))
		p.keep = append(p.keep, p.free)
	}
	b := p.free[:n:n] // zeroed: b[n-1] is the NUL
	p.free = p.free[n:]
	copy(b, s)
	return uintptr(unsafe.Pointer(&b[0]))
}

// cstrBlock is the size of the blocks cstr copies into, which a typical
// environment and PATH fit.
const cstrBlock = 4096

// cstrv returns the address of a NUL-terminated array of C strings.
func (p *prepared) cstrv(ss []string) (uintptr, []uintptr) {
	v := make([]uintptr, len(ss)+1)
	for i, s := range ss {
		v[i] = p.cstr(s)
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
	setSigaction(sig, &sigaction{}, nil) // SIG_DFL
	set := uint64(1) << (uint(sig) - 1)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
}
