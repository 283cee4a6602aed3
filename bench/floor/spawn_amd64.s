//go:build linux

#include "textflag.h"

// RAWCLONE is clone(DI's flags) with no stack, TID pointers or TLS: a vfork
// or a fork. It ends comparing the result with 0: the child sees equal.
#define RAWCLONE \
	MOVQ	$56, AX; \
	XORQ	SI, SI; \
	XORQ	DX, DX; \
	XORQ	R10, R10; \
	XORQ	R8, R8; \
	SYSCALL; \
	CMPQ	AX, $0

// func spawnRaw(clone, pidfd, kinds uintptr, paths, argv, envp unsafe.Pointer) (r uintptr)
//
// The parent returns the first child's PID or -errno. The first child
// (clone's flags: a vfork, or a fork for -own) joins with setns(pidfd,
// kinds), then vforks the program's process with CLONE_PARENT and exits 0
// once that one has executed a program (126 if the join failed). The
// program's process tries each candidate path in turn (127 if none runs).
// The children touch no memory but what the arguments point to, and write
// none: with CLONE_VM they share the caller's stack.
TEXT ·spawnRaw(SB), NOSPLIT, $0-56
	MOVQ	clone+0(FP), DI
	RAWCLONE
	JNE	parent
	MOVQ	$308, AX // SYS_setns
	MOVQ	pidfd+8(FP), DI
	MOVQ	kinds+16(FP), SI
	SYSCALL
	TESTQ	AX, AX
	JNE	joinfailed
	MOVQ	$0xc111, DI // CLONE_VM|CLONE_VFORK|CLONE_PARENT|SIGCHLD
	RAWCLONE
	JNE	joined
	MOVQ	paths+24(FP), R12
next:
	MOVQ	0(R12), DI
	TESTQ	DI, DI
	JEQ	notfound
	MOVQ	$59, AX // SYS_execve
	MOVQ	argv+32(FP), SI
	MOVQ	envp+40(FP), DX
	SYSCALL
	ADDQ	$8, R12
	JMP	next
notfound:
	MOVQ	$127, DI
	MOVQ	$60, AX // SYS_exit
	SYSCALL
joined:
	MOVQ	$0, DI
	MOVQ	$60, AX
	SYSCALL
joinfailed:
	MOVQ	$126, DI
	MOVQ	$60, AX
	SYSCALL
parent:
	MOVQ	AX, r+48(FP)
	RET
