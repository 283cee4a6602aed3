package nsenter

import (
	"syscall"

	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/target"
)

// Do runs fn on an OS thread that has joined the target's namespaces of the
// given kinds, and returns fn's error. Only thread-joinable kinds (mnt, uts,
// ipc, net, pid, cgroup) can be joined this way; user and time namespaces
// need a single-threaded process and are refused (ErrUnsupported).
//
// The joins are planned as Command plans them and fail with the same
// errors, worded the same way.
//
// fn runs on its own goroutine. Goroutines fn starts do not inherit the
// namespaces; processes fn starts with os/exec from its own goroutine do. The
// thread is discarded when fn returns and never serves another goroutine,
// even if fn calls runtime.UnlockOSThread once.
func Do(t *target.Pinned, kinds namespace.Set, fn func() error) error {
	for _, k := range kinds.Kinds() {
		if !k.ThreadJoinable() {
			return unsupportedf("a %s namespace cannot be joined by one thread of a multithreaded process", k)
		}
	}
	if kinds == 0 {
		// Nothing to join: fn still gets a thread of its own.
		return spawn.Do(newSpec(), fn)
	}
	opts := DefaultOptions()
	opts.Kinds = kinds
	if _, kind, ok := t.NamespaceFile(); ok && kinds == namespace.SetOf(kind) {
		// The namespace-file target is the namespace of that kind.
		opts.Kinds = 0
	}
	c := &Cmd{Target: t, Options: opts}
	b, err := c.build(false, false)
	if err != nil {
		return err
	}
	defer b.close()
	err = spawn.Do(b.spec, fn)
	if b.pidfdJoinFailed(err, syscall.EINVAL) {
		// A kernel that cannot setns through a pidfd (5.3 to 5.7):
		// plan again, one namespace file at a time, as Start does.
		b.close()
		if b, err = c.build(false, true); err != nil {
			return err
		}
		defer b.close()
		err = spawn.Do(b.spec, fn)
	}
	return b.childError(err)
}
