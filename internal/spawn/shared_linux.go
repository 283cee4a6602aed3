package spawn

import (
	"os"
	"runtime"
	"sync"
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
// instant of the clone and left again. Leaving it is a join of nsx's own
// PID namespace, which the kernel may refuse (to a process privileged only
// in a user namespace below the one owning it), so that join is tried
// first; when it or the pre-join fails, ok is false with nothing changed,
// and Start takes the copied child (with its relay) instead.
func startShared(s *Spec, p *prepared) (proc *Process, err error, ok bool) {
	waitGate(s)
	runtime.LockOSThread()
	unlock := true
	defer func() {
		if unlock {
			runtime.UnlockOSThread()
		}
	}()
	if s.PrejoinPID >= 0 {
		home, err := unix.PidfdOpen(os.Getpid(), 0)
		if err != nil {
			return nil, nil, false
		}
		defer unix.Close(home)
		if unix.Setns(home, unix.CLONE_NEWPID) != nil || unix.Setns(s.PrejoinPID, int(s.PIDMask)) != nil {
			return nil, nil, false
		}
		defer func() {
			// Children of this thread would be born in the target's
			// PID namespace until this succeeds. It did just now, as
			// the first join; should it fail all the same, the thread
			// stays locked, to end with its goroutine.
			if unix.Setns(home, unix.CLONE_NEWPID) != nil {
				unlock = false
			}
		}()
	}
	if s.NoDump {
		// Dumpability belongs to the memory the child shares: it must
		// not be ptraced through the target until it executes.
		dumpableMu.Lock()
		defer dumpableMu.Unlock()
		was, _ := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
		defer unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(was), 0, 0, 0)
	}
	p.raw.errPipe = -1
	pid, pidfd, errno := vfork(&p.raw)
	runtime.KeepAlive(p)
	if errno != 0 {
		return nil, &ChildError{Stage: StageFork, Index: -1, Errno: errno}, true
	}
	proc = &Process{Pid: pid, Pidfd: pidfd}
	if f := p.raw.fail; f.stage != StageNone {
		// The child exited after its report; reap it.
		proc.Wait(false)
		proc.Release()
		return nil, p.childError(f.stage, f.index, syscall.Errno(f.errno)), true
	}
	return proc, nil, true
}
