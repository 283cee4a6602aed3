package spawn

import "unsafe"

// The child reports the step that failed to the parent over a close-on-exec
// pipe; a successful execve closes the pipe and the parent reads nothing.

// Stage names the step of the child's sequence that failed.
type Stage int32

// Stages of the child's sequence, in the order it runs them.
const (
	StageNone Stage = iota
	StageStdio
	StageJoin
	StagePrivateMounts
	StageReadOnly
	StageRootDir
	StageChroot
	StageChdirRoot
	StageWdns
	StageCwd
	StageCwdEscape
	StageCgroup
	StageFork
	StageSetgroups
	StageSetgid
	StageSetuid
	StageCapget
	StageCapset
	StageAmbient
	StageExec
)

// StageDebugProc is the debug mount namespace's step in the child (nsx
// debug): a mount namespace of the joined user namespace, if any, and the
// new /proc. It runs after any fork for the PID namespace and before the
// credentials change.
const StageDebugProc Stage = 64

// report is what the child writes on failure: the stage, the index of the
// join entry (for StageJoin) and the errno.
type report struct {
	stage Stage
	index int32
	errno int32
}

const maxJoins = 24

// Passes of the joins (rawJoin.pass), one step of the table each.
const (
	joinTolerant uint8 = iota + 1
	joinUser
	joinRetry
)

// maxExtraFiles bounds Spec.ExtraFiles: the raw child keeps them in fixed
// arrays.
const maxExtraFiles = 64

// rawJoin is one setns call: fd is a namespace file or a pidfd, nstype the
// kind or, for a pidfd, the mask of kinds.
type rawJoin struct {
	fd     int32
	nstype uint32
	// pass is the step that makes the call: joinTolerant (failures
	// forgiven), joinUser or joinRetry (failures fail the child).
	pass uint8
	// sameAs, for a retry, is the index of the tolerant entry joining the
	// same namespaces; it is skipped when that one succeeded.
	sameAs int8
}

// capHeader and capData are the kernel's _LINUX_CAPABILITY_VERSION_3 layout.
type capHeader struct {
	version uint32
	pid     int32
}

type capData struct {
	effective   uint32
	permitted   uint32
	inheritable uint32
}

// cloneArgs is struct clone_args of clone3(2).
type cloneArgs struct {
	flags      uint64
	pidFD      uint64
	childTID   uint64
	parentTID  uint64
	exitSignal uint64
	stack      uint64
	stackSize  uint64
	tls        uint64
	setTID     uint64
	setTIDSize uint64
	cgroup     uint64
}

// rawSpec is everything the child needs, laid out so that the child only
// reads it and writes integers: no Go pointer is stored after the fork, so
// no write barrier can run there. Pointers to strings and arrays are kept
// alive by the Go-typed fields of the enclosing proc.
type rawSpec struct {
	joins  [maxJoins]rawJoin
	njoins int

	nodump         bool
	setgroupsEarly bool

	stdio [3]int32 // source fd for 0, 1, 2, or -1 to inherit

	// extra are the fds to become 3, 4, … in the program
	// (Spec.ExtraFiles), nextra how many.
	extra  [maxExtraFiles]int32
	nextra int

	rootFd   int32
	wdnsPath uintptr // NUL-terminated path, or 0
	cwdFd    int32
	checkCwd bool
	cwdBuf   unsafe.Pointer
	cwdLen   uintptr

	forkForPID bool
	// relayForward makes the relaying process pass relayedSignals on to
	// the program (Spec.ForwardSignals).
	relayForward bool

	setgroups bool
	gid       int64 // -1: keep
	uid       int64 // -1: keep
	keepCaps  bool

	errPipe int32

	argv   uintptr // *[n]uintptr, NUL-terminated
	envp   uintptr
	shArgv uintptr // argv for /bin/sh when the program is a script without #!
	shPath uintptr
	shSlot unsafe.Pointer // &shArgv[1], written with the script's path

	cands  [64]uintptr // paths to try, in PATH order
	ncands int

	// readOnly makes a private, recursively read-only copy of the joined
	// mount namespace (--read-only); roAttr is its mount_setattr argument.
	readOnly bool
	roAttr   [4]uint64
	// roDevs are the device nodes (NUL-terminated paths) that stay usable
	// in the copy, each bind-mounted onto itself and given back its
	// devices with devAttr; roDropCaps are the capabilities withheld
	// from the program (a bit per capability).
	roDevs     [8]uintptr
	nroDevs    int
	devAttr    [4]uint64
	roDropCaps uint64

	// debugProc mounts a procfs of the child's PID namespace on /proc
	// (nsx debug), after debugUnshare gave the child a mount namespace
	// owned by the user namespace it joined.
	debugProc    bool
	debugUnshare bool

	clone cloneArgs
	pidfd int32 // written by clone3 in the parent
	// ex is the executor the child is: execRaw, a copy of this process,
	// or execShared, in its memory (vfork).
	ex executors
	// childMask is the signal mask the shared child restores, and
	// clearSighand says that clone3 reset its signal handlers.
	childMask    uint64
	clearSighand bool

	// fail is the report of the step that failed, written by the child
	// and sent to the parent as it is.
	fail report
	// scratch is the child's working memory, kept here rather than on
	// its nosplit stack.
	scratch childScratch

	// us creates namespaces instead of joining them (nsx unshare).
	us rawUnshare
}

// childScratch is memory the child writes (integers only).
type childScratch struct {
	joined            uint32 // bit i: first-pass join i succeeded
	earlyGroupsFailed bool
	stdio             [3]int32             // close-on-exec copies of the stdio sources
	extra             [maxExtraFiles]int32 // close-on-exec copies of the extra files, all >= 3+nextra
	status            uint32               // wait4 status
	siginfo           [128]byte
	sigact            [4]uint64 // struct sigaction
	sigset            uint64    // the relaying process's blocked signals
	oldSigset         uint64
	dieSet            uint64
	relayPid          uintptr // the grandchild the relaying process waits for
	relaySelf         uintptr // the relaying process's PID, as it sees itself
	grandchild        bool    // this is the program's process below a relay
	capHdr            capHeader
	capData           [2]capData
}
