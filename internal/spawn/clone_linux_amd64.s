#include "textflag.h"

// func clone3Shared(args, size uintptr) (pid, errno uintptr)
//
// clone3(args, size) for a CLONE_VM|CLONE_VFORK child, which runs on this
// very stack while the calling thread sleeps until the child executes a
// program or exits. Whatever the child calls overwrites the stack slot of
// this function's return address, so the address is carried across the
// system call in R12 instead: each of the two returns with its own copy of
// the register, the child first, the caller after it. The results are
// stored after the system call, so the caller's are the last written.
TEXT ·clone3Shared(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ	args+0(FP), DI
	MOVQ	size+8(FP), SI
	MOVQ	$435, AX // SYS_clone3
	POPQ	R12
	SYSCALL
	PUSHQ	R12
	CMPQ	AX, $0xfffffffffffff001
	JCC	failed
	MOVQ	AX, pid+16(FP)
	MOVQ	$0, errno+24(FP)
	RET
failed:
	NEGQ	AX
	MOVQ	AX, errno+24(FP)
	MOVQ	$0, pid+16(FP)
	RET
