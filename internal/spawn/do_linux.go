package spawn

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrNeedsProcess is why Do refuses a spec: it asks for something only a
// single-threaded process or a new process can do (a user or time
// namespace, credentials, capabilities, a cgroup, creating namespaces).
var ErrNeedsProcess = errors.New("needs a process of its own, not one thread of a multithreaded process")

// ErrThreadEscaped is joined to fn's error when fn unlocked the thread Do
// gave it more often than it locked it, so that a thread in the joined
// namespaces went back to the scheduler (and may run other goroutines).
var ErrThreadEscaped = errors.New("spawn.Do: fn unlocked its OS thread; a thread in the target's namespaces went back to the scheduler")

// Do runs fn on a fresh OS thread that has carried out the spec's thread
// steps, as the child of Start would: the PID pre-join, the joins (Tolerant;
// User is refused), the read-only copy, the root and the working directory,
// after unshare(CLONE_FS) gives the thread an fs_struct of its own. A failed
// step is a *ChildError exactly as Start reports it, and fn does not run.
// The program fields (Path, Argv, Env, Stdio, ExtraFiles) and NoDump,
// ForkForPID, ForwardSignals are ignored. A spec that needs a process of its
// own is refused with an error wrapping ErrNeedsProcess.
//
// fn runs on its own goroutine, locked to that thread; Do returns fn's
// error. The thread is locked twice and never unlocked by Do, and locked
// once more after fn: it ends with the goroutine, so no other goroutine
// ever runs in the joined namespaces, even when fn unlocks it.
func Do(s *Spec, fn func() error) error {
	if err := checkDo(s); err != nil {
		return err
	}
	done := make(chan error, 1)
	goOffMain(func() {
		// Locked a second time, so that an fn that pairs an
		// UnlockOSThread with Do's lock does not hand the thread back.
		runtime.LockOSThread()
		tid := unix.Gettid()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			done <- os.NewSyscallError("unshare", err)
			return
		}
		if err := walkThread(s, execDo); err != nil {
			done <- err
			return
		}
		err := fn()
		// Locked again: an fn that unlocked as often as it was locked
		// has not moved (the check below says so if it has), and the
		// thread must still end with this goroutine.
		runtime.LockOSThread()
		if unix.Gettid() != tid {
			err = errors.Join(err, ErrThreadEscaped)
		}
		done <- err
	})
	return <-done
}

// checkDo refuses a spec one thread cannot carry out.
func checkDo(s *Spec) error {
	if row := unsupported(s, execDo); row != nil {
		return fmt.Errorf("spawn.Do: %s %w", row.what, ErrNeedsProcess)
	}
	return nil
}
