// Package spawn starts a program inside other processes' namespaces.
//
// A Go process always has several threads, and the kernel lets only a
// single-threaded process join user and time namespaces (and only a thread
// with its own fs_struct join a mount namespace). So the program is started
// from a child made with a raw clone(2): the child is a copy of this process
// holding only the calling thread, and it runs a fixed sequence of raw system
// calls — join the namespaces, change root and directory, switch credentials,
// execve — prepared in full by the parent, because between the fork and the
// exec it must not allocate, grow its stack or enter the Go scheduler.
//
// The same child creates namespaces for nsx unshare: it unshares them and
// waits on a pipe while this process writes their ID maps and time offsets
// and binds them to files from outside.
//
// That sequence lives in fork_linux_unsafe.go and, for the creating steps,
// unshare_linux_unsafe.go: the only unsafe code of nsx.
package spawn
