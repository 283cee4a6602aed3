package nsenter

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/target"
)

// Do runs fn on an OS thread that has joined the target's namespaces of the
// given kinds, and returns fn's error. Only thread-joinable kinds (mnt, uts,
// ipc, net, pid, cgroup) can be joined this way; user and time namespaces
// need a single-threaded process and are refused.
//
// fn runs on its own goroutine. Goroutines fn starts do not inherit the
// namespaces; processes fn starts with os/exec from its own goroutine do. The
// thread is discarded when fn returns and never serves another goroutine,
// even if fn calls runtime.UnlockOSThread once.
func Do(t *target.Pinned, kinds namespace.Set, fn func() error) error {
	for _, k := range kinds.Kinds() {
		if !k.ThreadJoinable() {
			return fmt.Errorf("nsenter.Do: a %s namespace cannot be joined by one thread of a multithreaded process", k)
		}
	}
	done := make(chan error, 1)
	go func() {
		// Never unlocked: once its namespaces change, this thread must
		// die with its goroutine rather than return to the scheduler.
		// Locked twice, so that an fn that unlocks the thread it was
		// given (pairing an UnlockOSThread with Do's lock) does not hand
		// it back: the lock count stays above zero until the goroutine
		// ends.
		runtime.LockOSThread()
		runtime.LockOSThread()
		tid := unix.Gettid()
		if err := joinThread(t, kinds); err != nil {
			done <- err
			return
		}
		err := fn()
		if unix.Gettid() != tid {
			// fn unlocked more than once and moved off the thread;
			// the joined thread may now serve other goroutines.
			err = errors.Join(err, errors.New("nsenter.Do: fn unlocked its OS thread; a thread in the target's namespaces went back to the scheduler"))
		}
		done <- err
	}()
	return <-done
}

// joinThread moves the calling, locked thread into the target's namespaces
// of the given kinds: with one setns on the pidfd when there is one, else one
// namespace file at a time.
func joinThread(t *target.Pinned, kinds namespace.Set) error {
	if kinds.Has(namespace.Mount) {
		// A mount join needs a thread that does not share its fs_struct
		// (root, cwd) with the rest of the process.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare(CLONE_FS): %w", err)
		}
	}
	if kinds == 0 {
		return nil
	}
	if fd, kind, ok := t.NamespaceFile(); ok {
		if kinds != namespace.SetOf(kind) {
			return fmt.Errorf("%s is a %s namespace; cannot join %s from it", t.Ref().Path, kind, kinds)
		}
		if err := unix.Setns(fd, int(kind)); err != nil {
			return fmt.Errorf("reassociate to namespace %s failed: %w", t.Ref().Path, err)
		}
		return nil
	}
	if t.Pidfd() >= 0 {
		err := unix.Setns(t.Pidfd(), int(kinds))
		if err == nil {
			return nil
		}
		if err != unix.EINVAL {
			return fmt.Errorf("reassociate to namespaces failed: %w", err)
		}
		// EINVAL: a kernel without setns on pidfds; join file by file.
	}
	for _, k := range kinds.Kinds() {
		fd, err := t.OpenNS(k)
		if err != nil {
			return err
		}
		err = unix.Setns(fd, int(k))
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("reassociate to namespace 'ns/%s' failed: %w", k.ProcName(), err)
		}
	}
	return nil
}
