package spawn

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Creating namespaces (nsx unshare) takes the same raw child as joining
// them, for the same reason: only a single-threaded process may unshare a
// user or time namespace. The child unshares and then waits on a pipe while
// the parent, which is still in the original namespaces, does what must be
// done from outside: write uid_map, gid_map, setgroups and timens_offsets,
// and bind the new namespaces onto files to keep them.

// Stages of the namespace-creating steps, numbered apart from the joining
// steps so that both lists can grow independently.
const (
	// StageUnshare is unshare(2) itself.
	StageUnshare Stage = 100 + iota
	// StagePropagation is the recursive propagation change of / in the
	// new mount namespace.
	StagePropagation
	// StageNewRoot is chroot(Unshare.Root).
	StageNewRoot
	// StageNewDir is chdir(Unshare.Dir).
	StageNewDir
	// StageMountProc is the proc mount of Unshare.MountProc.
	StageMountProc
)

// Unshare describes namespaces the child creates instead of joining.
type Unshare struct {
	// Flags are the CLONE_NEW* flags for unshare(2).
	Flags uintptr
	// Configure, when set, runs in this process once the child has
	// unshared and while it waits; pid is the child. It writes what must
	// be written from outside (ID maps, time offsets) and binds namespace
	// files. If it fails, the child ends without running the program and
	// Start returns Configure's error.
	Configure func(pid int) error
	// Fork runs the program in a child of the child, so that in a new PID
	// namespace it is PID 1; the child relays its exit, death or stop.
	Fork bool
	// AfterFork, with Fork, runs in this process once the program's
	// process exists and before it goes on; pid is the child, whose
	// pid_for_children is then populated. Errors are handled as for
	// Configure.
	AfterFork func(pid int) error
	// Propagation, when not 0, is the mount(2) propagation flags applied
	// recursively to / once the child has unshared (MS_REC|MS_PRIVATE...).
	Propagation uintptr
	// KillSignal, when not 0 and with Fork, is sent to the program when
	// this process dies (PR_SET_PDEATHSIG). The kernel ties it to the
	// thread that called Start: call it from a goroutine locked to a
	// thread that outlives the child (nsx unshare locks its goroutine
	// until the child is reaped).
	KillSignal syscall.Signal
	// Root, when set, is the program's new root (chroot); Dir, when set,
	// its working directory afterwards (relative to the new root).
	Root, Dir string
	// MountProc, when set, is where a proc file system is mounted, after
	// the root and directory change.
	MountProc string
}

// rawUnshare is the child's copy of Unshare; paths are NUL-terminated C
// strings kept alive by prepared.keep, pipe ends are the child's.
type rawUnshare struct {
	active        bool
	flags         uintptr
	ready         int32 // the child writes a byte when it waits
	goAhead       int32 // and reads one to go on
	parentReady   int32 // the parent's ends, which the child closes
	parentGo      int32
	syncAfterFork bool
	fork          bool
	propagation   uintptr
	sigset        uint64 // SIGINT and SIGTERM
	killSig       uintptr
	root          uintptr
	dir           uintptr
	procDir       uintptr
	procSource    uintptr // "proc", the source and the type
	buf           uint64  // the handshake's byte
}

// unsharePipes are the two sync pipes of a namespace-creating child.
type unsharePipes struct {
	readyR, readyW, goR, goW int
}

// prepareUnshare fills the child's part from s.Unshare and opens the sync
// pipes.
func prepareUnshare(p *prepared, s *Spec) (*unsharePipes, error) {
	u := s.Unshare
	r := &p.raw.us
	var ready, goAhead [2]int
	if err := unix.Pipe2(ready[:], unix.O_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	if err := unix.Pipe2(goAhead[:], unix.O_CLOEXEC); err != nil {
		unix.Close(ready[0])
		unix.Close(ready[1])
		return nil, os.NewSyscallError("pipe2", err)
	}
	pipes := &unsharePipes{readyR: ready[0], readyW: ready[1], goR: goAhead[0], goW: goAhead[1]}
	r.active = true
	r.flags = u.Flags
	r.ready, r.goAhead = int32(pipes.readyW), int32(pipes.goR)
	r.parentReady, r.parentGo = int32(pipes.readyR), int32(pipes.goW)
	r.fork = u.Fork
	r.syncAfterFork = u.Fork && u.AfterFork != nil
	r.propagation = u.Propagation
	r.sigset = 1<<(uint(syscall.SIGINT)-1) | 1<<(uint(syscall.SIGTERM)-1)
	if u.Fork {
		r.killSig = uintptr(u.KillSignal)
		p.raw.forkForPID = true
	}
	str := func(v string) uintptr {
		if v == "" {
			return 0
		}
		return p.cstr(v)
	}
	r.root = str(u.Root)
	r.dir = str(u.Dir)
	r.procDir = str(u.MountProc)
	r.procSource = str("proc")
	return pipes, nil
}

// closeChildEnds closes the child's pipe ends in this process, once the
// child has been cloned.
func (u *unsharePipes) closeChildEnds() {
	closeOnce(&u.readyW)
	closeOnce(&u.goR)
}

func (u *unsharePipes) close() {
	u.closeChildEnds()
	closeOnce(&u.readyR)
	closeOnce(&u.goW)
}

func closeOnce(fd *int) {
	if *fd >= 0 {
		unix.Close(*fd)
		*fd = -1
	}
}

// errChildGone means the child ended before it was ready; its report on
// the error pipe says why.
var errChildGone = errors.New("spawn: child ended early")

// handshake waits for the child to be ready, runs step and lets the child
// go on.
func (u *unsharePipes) handshake(pid int, step func(int) error) error {
	var b [1]byte
	if n, err := readFull(u.readyR, b[:]); err != nil || n != 1 {
		return errChildGone
	}
	if step != nil {
		if err := step(pid); err != nil {
			return err
		}
	}
	for {
		_, err := unix.Write(u.goW, b[:])
		if err != unix.EINTR {
			return err
		}
	}
}

// runUnshare is the parent's side of the child's waits. On a failure of
// Configure or AfterFork, the child is told by end of file, ends, and is
// reaped here.
func runUnshare(s *Spec, u *unsharePipes, proc *Process) error {
	defer u.close()
	err := u.handshake(proc.Pid, s.Unshare.Configure)
	if err == nil && s.Unshare.Fork && s.Unshare.AfterFork != nil {
		err = u.handshake(proc.Pid, s.Unshare.AfterFork)
	}
	if err == nil || err == errChildGone {
		return nil // a child that failed reports on the error pipe
	}
	u.close()
	proc.Wait(false)
	proc.Release()
	return err
}
