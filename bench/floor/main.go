//go:build linux && amd64

// Command floor is the least a pure-Go program can do to run a program in
// another process's namespaces, for make bench: it says how fast any Go
// `nsenter` could be on this machine, so that nsx's ratios to util-linux
// can be read against what a Go program can reach at all.
//
// It is not nsx and checks nothing. It opens a pidfd, clones a child that
// joins every namespace the target does not share in one setns(pidfd,
// flags), has that child clone the program's process (with CLONE_PARENT, so
// that it is born in the target's PID namespace as floor's own child), looks
// the program up along PATH with one execve per directory (a name with a
// slash is run as given), and waits. No /proc read, no validation of the
// pin, no comparison of namespaces (the caller says which ones), no signal
// relaying, no error text: the rest of what `nsx enter` does is what this
// leaves out.
//
// Usage:
//
//	floor                       start-up alone: exits 0 at once
//	floor PID PROGRAM [ARG...]  target sharing the caller's user and time namespaces
//	floor -own PID PROGRAM ...  target with its own user and time namespaces too
//
// With -own the first child is a plain fork (no CLONE_VM): the kernel lets
// only a process whose memory is its own join a user or time namespace.
// The exit status is the program's, 126 when the join fails and 127 when
// the program is not found.
package main

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

const (
	cloneNewCgroup = 0x02000000
	cloneNewTime   = 0x00000080
	sysPidfdOpen   = 434

	sharedKinds = syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC |
		syscall.CLONE_NEWNET | syscall.CLONE_NEWPID | cloneNewCgroup
	allKinds = sharedKinds | syscall.CLONE_NEWUSER | cloneNewTime
)

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		return
	}
	clone, kinds := uintptr(syscall.CLONE_VM|syscall.CLONE_VFORK|syscall.SIGCHLD), uintptr(sharedKinds)
	if args[0] == "-own" {
		clone, kinds = uintptr(syscall.SIGCHLD), allKinds
		args = args[1:]
	}
	if len(args) < 2 {
		os.Exit(2)
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		os.Exit(2)
	}
	pidfd, _, errno := syscall.RawSyscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		os.Exit(1)
	}
	// As execvp: a name with a slash is run as given, any other is looked
	// up along PATH.
	candidates := []string{args[1]}
	if !strings.Contains(args[1], "/") {
		candidates = candidates[:0]
		for _, dir := range strings.Split(os.Getenv("PATH"), ":") {
			candidates = append(candidates, dir+"/"+args[1])
		}
	}
	if errno := spawn(clone, pidfd, kinds, candidates, args[1:], os.Environ()); errno != 0 {
		os.Exit(1)
	}
	// Two children end: the joining one, and the program (its sibling by
	// CLONE_PARENT). The program's status is the one that is not the
	// joiner's 0, or 0.
	status := 0
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			break
		}
		if code := ws.ExitStatus(); code != 0 {
			status = code
		}
	}
	os.Exit(status)
}
