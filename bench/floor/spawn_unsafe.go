//go:build linux && amd64

package main

import (
	"syscall"
	"unsafe"
)

// spawnRaw is in spawn_amd64.s: the joining child and the program's process
// run on the caller's stack (vfork), so no Go code may run in them.
func spawnRaw(clone, pidfd, kinds uintptr, paths, argv, envp unsafe.Pointer) (r uintptr)

// spawn starts the program; the C strings are built before the clone, so
// that the children only issue system calls.
func spawn(clone, pidfd, kinds uintptr, paths, argv, env []string) syscall.Errno {
	p, a, e := cStrings(paths), cStrings(argv), cStrings(env)
	r := spawnRaw(clone, pidfd, kinds, unsafe.Pointer(&p[0]), unsafe.Pointer(&a[0]), unsafe.Pointer(&e[0]))
	if int(r) < 0 {
		return syscall.Errno(-int(r))
	}
	return 0
}

// cStrings is a NULL-terminated array of NUL-terminated strings.
func cStrings(list []string) []*byte {
	out := make([]*byte, 0, len(list)+1)
	for _, s := range list {
		b := append([]byte(s), 0)
		out = append(out, &b[0])
	}
	return append(out, nil)
}
