// Package nsenter runs programs and Go functions inside the namespaces of
// another process, correctly for all eight kinds of Linux namespace.
//
// A Go program is always multithreaded, and the kernel lets only a
// single-threaded process join user and time namespaces, while mount joins
// need a thread that does not share its filesystem state. This package hides
// those rules: Command starts a program through a single-threaded child that
// joins every requested namespace with raw system calls before it executes
// the program, and Do runs a Go function on a dedicated, locked thread that
// has joined the thread-joinable kinds and is thrown away afterwards.
//
// Cmd is used as exec.Cmd is: Command or CommandContext make one, Run,
// Output and CombinedOutput run it, Start and Wait split the run; Stdin,
// Stdout, Stderr and ExtraFiles are the program's fds 0, 1, 2 and 3 on; a
// program that fails is an *ExitError holding its *ProcessState. The target
// is a process pinned with target.PinPID or target.Resolve (a PID, or a
// container such as "docker:web1").
//
// # Threads
//
// A namespace belongs to an OS thread, not to a goroutine, and the Go
// scheduler moves goroutines between threads. What that means for callers:
//
//   - Cmd leaves the namespaces of this process's threads as they were:
//     the joins happen in the child. To have the child born in the
//     target's PID namespace, the thread that starts it joins that
//     namespace for its children for the instant of the clone and joins
//     its own back before it runs anything else (or, where that cannot be
//     undone, a thread that is discarded does it). A Cmd may be used from
//     any goroutine, and many at once.
//   - Do runs fn on a new goroutine locked to a fresh thread that joined
//     the namespaces; only fn's own code runs in them. Goroutines that fn
//     starts run on other threads, in this process's namespaces, not the
//     target's. Processes that fn starts itself (os/exec from fn's
//     goroutine) are forked from its thread and inherit its namespaces,
//     including a joined PID namespace.
//   - fn must not call runtime.UnlockOSThread. Do locks the thread twice,
//     so one unmatched unlock does no harm; more would hand a thread in the
//     target's namespaces back to the scheduler, and Do then returns an
//     error saying so. The thread ends with fn and never serves another
//     goroutine; the runtime never creates new threads from a locked one.
//   - What fn creates keeps its namespace after Do returns: a socket made
//     in the target's network namespace stays there and can be used from
//     any goroutine, which is how to listen or dial "inside" a container
//     without running a program there. Paths fn opens resolve in the
//     target's mount namespace only if it was joined.
//   - User and time namespaces cannot be joined by one thread of a
//     multithreaded process, and a thread cannot change its credentials
//     alone: Do refuses them; use Command.
//   - Importing this package locks the main goroutine to the main thread
//     for the life of the program (an init function): if a locked thread in
//     foreign namespaces ended while running as the main thread, the
//     runtime would keep it alive and later threads would inherit its
//     namespaces (golang/go#34031). Do not unlock it; func main still runs,
//     on the main thread.
//
// # Security
//
// The target is pinned by a pidfd when it is resolved: the namespaces
// entered are those of the process that was named, even if it dies and its
// PID is reused before Start, which then fails instead of entering a
// stranger. Every fd this package opens is close-on-exec, so the program
// gets its standard streams and ExtraFiles and nothing else of this
// process (fds the caller itself left inheritable are passed on, as
// exec.Cmd passes them). The child is not dumpable until it executes the
// program, so processes in the target cannot attach to it while it holds
// this process's fds; uid, gid and supplementary groups are changed in the
// child, never in the caller. When Options.Root changes the root (or with
// Options.ConfineCwd), the program refuses to start in a working directory
// outside that root, from where it could reach files beyond it.
// Nothing is written into the target unless asked (Options.JoinCgroup, a
// Writable debug root).
package nsenter
