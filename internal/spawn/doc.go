// Package spawn starts a program inside other processes' namespaces, or runs
// a function there (Do).
//
// A Go process always has several threads, and the kernel lets only a
// single-threaded process join user and time namespaces (and only a thread
// with its own fs_struct join a mount namespace). So the join engine has
// several executors, and one ordered table of steps (steps_linux.go) that
// each of them walks, running the rows it can: prejoin the PID namespace,
// the tolerant joins, the user namespace, the retries, the read-only copy,
// root and directory, the fork for a PID namespace, credentials,
// capabilities, stdio and extra files, exec. Which executor a spec takes,
// and what ExecInPlace and Do refuse, follow from the rows the spec needs.
//
//   - The raw child: a raw clone(2) of the calling thread, holding only it.
//     Between the fork and the exec it must not allocate, grow its stack or
//     enter the Go scheduler, so it reads the table as plain data and every
//     argument from memory the parent prepared (fork_linux_unsafe.go).
//     It is a copy of this process, or (the fast path: no user or time
//     namespace, no relay) runs in its memory, CLONE_VM|CLONE_VFORK, while
//     the calling thread sleeps until it executes (shared_linux.go).
//   - In place (--no-fork): the same raw walker on the calling thread.
//   - Do: on a fresh locked thread, the joins, then a function instead of
//     a program.
//
// Every goroutine that changes its thread's namespaces runs on a thread
// other than the main one (goOffMain) and ends with that thread; the one
// exception is the PID pre-join for the raw child (prejoinHere), which the
// calling thread undoes right after the clone, before it runs anything
// else, once it has made sure the kernel lets it come back.
//
// The raw child also creates namespaces for nsx unshare: it unshares them
// and waits on a pipe while this process writes their ID maps and time
// offsets and binds them to files from outside.
//
// fork_linux_unsafe.go and, for the creating steps, unshare_linux_unsafe.go
// hold the raw child's code; raw_linux_unsafe.go lays out the memory it
// reads; block_linux_unsafe.go announces the wait for the program to the
// runtime as blocking; clone_linux_amd64.s is the clone that shares the
// stack. Those are the only unsafe code of nsx, and test/layout fails if
// any other file imports unsafe.
package spawn
