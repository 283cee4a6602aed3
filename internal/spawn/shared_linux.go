package spawn

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// dumpableMu serialises the dumpability of this process's memory, which a
// child sharing it (vfork) needs off until it executes: concurrent Starts
// take turns, so that one cannot restore it under another.
var dumpableMu sync.Mutex

// startShared is Start's fast path: the raw child runs in this process's
// memory (vfork), so nothing is copied and no thread is made for it. The
// calling thread sleeps until the child executes the program or gives up,
// and then reads the child's report where the child wrote it.
//
// A PID namespace to be born in is joined by the calling thread for the
// instant of the clone and left again at once, before anything else runs
// on the thread. Leaving it is a join of nsx's own PID namespace, which the
// kernel may refuse (to a process privileged only in a user namespace below
// the one owning it), so that join is tried first; when it or the pre-join
// fails, or the kernel has no clone3 (before 5.3, or a seccomp filter that
// answers ENOSYS), ok is false with nothing changed, and Start takes the
// copied child (with its relay, and plain clone) instead.
func startShared(s *Spec, p *prepared) (proc *Process, err error, ok bool) {
	waitGate(s)
	if s.NoDump || steps[stepCredentials].needed(s) {
		// Dumpability belongs to the memory the child shares. NoDump
		// keeps the child from being ptraced through the target until
		// it executes; a change of credentials in the child resets it
		// too (commit_creds, to fs.suid_dumpable), and it must not
		// stay so for nsx.
		dumpableMu.Lock()
		defer dumpableMu.Unlock()
		was, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if s.NoDump {
			unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
		}
		defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(was), 0, 0, 0)
	}
	home, ok := prejoinHere(s)
	if !ok {
		return nil, nil, false
	}
	p.raw.errPipe = -1
	pid, pidfd, errno := vfork(&p.raw)
	runtime.KeepAlive(p)
	leavePrejoin(home)
	if errno == syscall.ENOSYS {
		return nil, nil, false
	}
	if errno != 0 {
		return nil, &ChildError{Stage: StageFork, Index: -1, Errno: errno}, true
	}
	sharedStarts.Add(1)
	proc = &Process{Pid: pid, Pidfd: pidfd}
	if p.raw.fail.stage != StageNone {
		return nil, p.reapFailed(proc, p.raw.fail), true
	}
	return proc, nil, true
}

// prejoinHere locks the calling goroutine to its thread and, when s has a
// PID namespace to be born in, joins the thread to it for the children it
// makes, after making sure that the way back (a join of nsx's own PID
// namespace through home, a pidfd of this process) is open: the kernel
// refuses that join to a process privileged only in a user namespace below
// the one owning nsx's PID namespace. home is -1 when there is nothing to
// join. If either join fails, ok is false with nothing changed and the
// goroutine unlocked. leavePrejoin undoes it.
func prejoinHere(s *Spec) (home int, ok bool) {
	runtime.LockOSThread()
	if s.PrejoinPID < 0 {
		return -1, true
	}
	home, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		runtime.UnlockOSThread()
		return -1, false
	}
	if unix.Setns(home, unix.CLONE_NEWPID) != nil || unix.Setns(s.PrejoinPID, int(s.PIDMask)) != nil {
		unix.Close(home)
		runtime.UnlockOSThread()
		return -1, false
	}
	return home, true
}

// leavePrejoin joins nsx's own PID namespace for the children of this
// thread again and unlocks the goroutine. The same join succeeded a moment
// ago, as prejoinHere's first; a failure now could only be transient
// (ENOMEM), so it is tried a few times, and if it still fails the thread
// stays locked, to end with its goroutine: otherwise children of this
// thread would be born in the target's PID namespace.
func leavePrejoin(home int) {
	if home < 0 {
		runtime.UnlockOSThread()
		return
	}
	defer unix.Close(home)
	for try := 0; try < 3; try++ {
		if unix.Setns(home, unix.CLONE_NEWPID) == nil {
			runtime.UnlockOSThread()
			return
		}
	}
}

// sharedStarts counts the programs started by the child sharing this
// process's memory, so that tests can tell that path from the copied
// child's.
var sharedStarts atomic.Int64
