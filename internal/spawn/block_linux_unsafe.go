package spawn

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiting for the program tells the runtime that the wait blocks, as
// gVisor does for its blocking calls (these hooks too are kept for outside
// users, go.dev/issue/67401). A plain system call keeps its P until sysmon
// takes it, and sysmon looks every 20 µs, doubling only after 1 ms: for a
// program's whole life, and on a virtual machine each look is a timer
// interrupt that traps. Given up at once, the P goes idle with the
// others', and sysmon sleeps until the wait returns.

//go:linkname runtimeEnterSyscallBlock runtime.entersyscallblock
func runtimeEnterSyscallBlock()

//go:linkname runtimeExitSyscall runtime.exitsyscall
func runtimeExitSyscall()

// wait4Blocking is wait4(pid, ws, opts, NULL) announced as blocking. ws is
// heap memory (the caller's stack might be moved meanwhile).
//
//go:nosplit
//go:norace
//go:nocheckptr
func wait4Blocking(pid int, ws *unix.WaitStatus, opts int) (int, syscall.Errno) {
	runtimeEnterSyscallBlock()
	r, _, e := syscall.RawSyscall6(syscall.SYS_WAIT4, uintptr(pid), uintptr(unsafe.Pointer(ws)), uintptr(opts), 0, 0, 0)
	runtimeExitSyscall()
	return int(r), e
}
