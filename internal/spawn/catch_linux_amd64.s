#include "textflag.h"

#define SYS_rt_sigreturn 15
#define SYS_getpgid 121
#define SYS_pidfd_send_signal 424
#define SI_KERNEL 0x80
// SIGINT (2), SIGQUIT (3) and SIGWINCH (28), as bits sig-1.
#define TERMINAL_SIGNALS 0x8000006

// forwardCaught(sig int, info *siginfo, uctx *ucontext) is the handler
// catch_linux.go installs, entered by the kernel with the C calling
// convention on the thread's signal stack. It runs on any thread at any
// instruction, so it touches only its four words, with atomic
// instructions, and makes raw system calls; the kernel restores every
// register on the way out (caughtReturn).
//
// The signal is recorded in caughtPending. While caughtTarget holds a
// pidfd (plus one) every recorded signal is taken out and sent to it;
// caughtBusy counts the handlers that may still send, for
// StopForwarding. A terminal's INT, QUIT or WINCH (si_code SI_KERNEL) went
// to the program as well when the program is in this process's group, and
// is not sent twice.
TEXT ·forwardCaught(SB), NOSPLIT|NOFRAME, $0
	MOVQ	DI, CX
	DECQ	CX
	MOVQ	$1, R12
	SHLQ	CX, R12
	CMPL	8(SI), $SI_KERNEL
	JNE	record
	TESTQ	$TERMINAL_SIGNALS, R12
	JZ	record
	MOVQ	·caughtPid(SB), DI
	TESTQ	DI, DI
	JZ	record
	MOVQ	$SYS_getpgid, AX
	SYSCALL
	MOVQ	AX, R13
	XORL	DI, DI
	MOVQ	$SYS_getpgid, AX
	SYSCALL
	CMPQ	AX, R13
	JEQ	done
record:
	LOCK
	ORQ	R12, ·caughtPending(SB)
	LOCK
	INCQ	·caughtBusy(SB)
	MOVQ	·caughtTarget(SB), R13
	DECQ	R13
	JS	leave
	XORL	R12, R12
	XCHGQ	R12, ·caughtPending(SB)
next:
	TESTQ	R12, R12
	JZ	leave
	BSFQ	R12, SI
	BTRQ	SI, R12
	INCQ	SI
	MOVQ	R13, DI
	XORL	DX, DX
	XORL	R10, R10
	MOVQ	$SYS_pidfd_send_signal, AX
	SYSCALL
	JMP	next
leave:
	LOCK
	DECQ	·caughtBusy(SB)
done:
	RET

// caughtReturn is the handler's sa_restorer: the return from a handler
// lands here, and rt_sigreturn restores the interrupted thread.
TEXT ·caughtReturn(SB), NOSPLIT|NOFRAME, $0
	MOVQ	$SYS_rt_sigreturn, AX
	SYSCALL
	INT	$3

// func caughtHandler() (handler, restorer uintptr)
TEXT ·caughtHandler(SB), NOSPLIT, $0-16
	MOVQ	$·forwardCaught(SB), AX
	MOVQ	AX, handler+0(FP)
	MOVQ	$·caughtReturn(SB), AX
	MOVQ	AX, restorer+8(FP)
	RET
