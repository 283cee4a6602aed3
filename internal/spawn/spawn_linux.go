package spawn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Join is one setns call of the child.
type Join struct {
	// Fd is a namespace file, or a pidfd when Mask has several kinds.
	Fd int
	// Mask is the kind of the namespace file, or the kinds to join
	// through the pidfd.
	Mask uint32
}

// Spec describes the child to start. Fds in it belong to the caller and
// stay open; they should be close-on-exec.
type Spec struct {
	// Tolerant joins run first with the caller's privileges; failures are
	// forgiven and retried after User. Explicit namespace files come after
	// the pidfd join, as util-linux orders them.
	Tolerant []Join
	// User, when set, is joined first in the second pass.
	User *Join
	// PrejoinPID, when >= 0, is a PID namespace fd (or pidfd) the parent
	// thread joins before cloning, so the child is born in that namespace
	// and needs no second fork. If that fails, the child forks again.
	PrejoinPID int
	// PIDMask is the setns type to use with PrejoinPID.
	PIDMask uint32
	// ForkForPID makes the child fork once more after joining, so that the
	// program is in the PID namespace joined (when PrejoinPID could not).
	ForkForPID bool
	// StartGate, when set, holds back the creation of the program's
	// process (and of any process that leads to it) until it is closed:
	// everything before, the joins of the thread path included, goes on
	// meanwhile. nsx's command line opens it once it catches the signals
	// it forwards, so that catching them runs alongside the entry instead
	// of before it (WithStartGate).
	StartGate <-chan struct{}
	// ForwardSignals makes the process relaying for the program (with
	// ForkForPID) pass ForwardedSignals on to it, as nsx itself does;
	// without it the relay keeps the signal dispositions it inherited
	// (nsx unshare's, as util-linux's).
	ForwardSignals bool

	// NoDump makes the child non-dumpable until execve, so processes in
	// the target cannot ptrace it while it holds host resources.
	NoDump bool
	// DropGroupsEarly tries setgroups(0) before the joins (util-linux does
	// this while still privileged in the caller's user namespace).
	DropGroupsEarly bool

	// Stdio are the fds to become 0, 1 and 2; -1 leaves the inherited one.
	Stdio [3]int
	// ExtraFiles are fds to become 3, 4, … in the program, as
	// exec.Cmd.ExtraFiles: entry i is fd 3+i, without close-on-exec.
	// Every other fd is closed at exec (the caller's are close-on-exec).
	// The in-place executor (ExecInPlace) refuses them.
	ExtraFiles []int

	// ReadOnly gives the program a private copy of the joined mount
	// namespace in which every mount is read-only, and withholds
	// CAP_SYS_ADMIN so that it cannot remount them (--read-only).
	ReadOnly bool

	// RootFd, when >= 0, becomes the root directory (fchdir + chroot).
	RootFd int
	// WdnsPath, when set, is the directory to change to after the root.
	WdnsPath string
	// CwdFd, when >= 0 and WdnsPath is empty, becomes the working directory.
	CwdFd int
	// CheckCwd refuses to run the program when its working directory is
	// not reachable from its root.
	CheckCwd bool
	// CgroupFd, when >= 0, is a cgroup v2 directory the child is born in
	// (clone3 CLONE_INTO_CGROUP).
	CgroupFd int

	// SetGroups drops supplementary groups; Gid and Uid, when >= 0, are set.
	SetGroups bool
	GID, UID  int
	// KeepCaps raises the permitted capabilities as ambient ones.
	KeepCaps bool

	// Unshare, when set, makes the child create namespaces (nsx unshare)
	// before the steps above; it needs PrejoinPID < 0 and no joins.
	Unshare *Unshare

	// Path is the program as the user named it; Argv its arguments
	// (Argv[0] included) and Env its environment. A Path without '/' is
	// searched in the PATH of Env.
	Path string
	Argv []string
	Env  []string

	// Debug, when set, runs the program in a new debug mount namespace
	// (nsx debug) instead of a joined one: built by a locked thread
	// before the fork, with a fresh /proc mounted by the child once it is
	// in the target's PID (and user) namespace.
	Debug *DebugRoot
}

// ReadOnlyDevices are the device nodes a --read-only program may still
// open: every other device of the copy is on a nodev mount, so no block
// device (a disk, a loop device) or kernel interface (/dev/kmsg, /dev/mem)
// can be written past the read-only mount table.
var ReadOnlyDevices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}

// ReadOnlyDroppedCaps are the capabilities a --read-only program never
// gets (dropped from the bounding set): remounting and other mount-table
// changes (SYS_ADMIN), raw I/O and device creation (SYS_RAWIO, MKNOD),
// the kernel itself (SYS_MODULE, SYS_BOOT, SYS_TIME, BPF), other processes'
// memory (SYS_PTRACE), the network configuration (NET_ADMIN) and immutable
// flags (LINUX_IMMUTABLE).
var ReadOnlyDroppedCaps = []int{unix.CAP_SYS_ADMIN, unix.CAP_SYS_RAWIO, unix.CAP_MKNOD, unix.CAP_SYS_MODULE,
	unix.CAP_SYS_BOOT, unix.CAP_SYS_TIME, unix.CAP_BPF, unix.CAP_SYS_PTRACE, unix.CAP_NET_ADMIN, unix.CAP_LINUX_IMMUTABLE}

// ChildError is a failure of the child before the program ran.
type ChildError struct {
	Stage Stage
	// Index is the failing join, counted over Tolerant then User, for
	// StageJoin; the program's fd that could not be set up (3 and up:
	// ExtraFiles) for StageStdio; otherwise -1.
	Index int
	Errno syscall.Errno
}

func (e *ChildError) Error() string {
	return fmt.Sprintf("spawn: stage %d (join %d): %v", e.Stage, e.Index, e.Errno)
}

func (e *ChildError) Unwrap() error { return e.Errno }

// Process is a started child.
type Process struct {
	Pid   int
	Pidfd int // -1 when the kernel gave none
}

// prepared holds the raw spec and the memory it points into.
type prepared struct {
	raw  rawSpec
	keep [][]byte // the blocks cstr copies strings into
	free []byte   // what is left of the last block
	vecs [][]uintptr
	buf  []byte
	// joinOf maps a raw join entry to the caller's join index.
	joinOf []int
}

// prepare lays s out for the raw walker. Its callers have vetted
// s.ExtraFiles already: Start with checkExtraFiles, ExecInPlace by refusing
// them.
func prepare(s *Spec) (*prepared, error) {
	p := &prepared{}
	r := &p.raw
	addJoin := func(j Join, pass uint8, sameAs int, callerIndex int) error {
		if r.njoins >= maxJoins {
			return errors.New("spawn: too many namespaces to join")
		}
		r.joins[r.njoins] = rawJoin{fd: int32(j.Fd), nstype: j.Mask, pass: pass, sameAs: int8(sameAs)}
		r.njoins++
		p.joinOf = append(p.joinOf, callerIndex)
		return nil
	}
	for i, j := range s.Tolerant {
		if err := addJoin(j, joinTolerant, -1, i); err != nil {
			return nil, err
		}
	}
	if s.User != nil {
		if err := addJoin(*s.User, joinUser, -1, len(s.Tolerant)); err != nil {
			return nil, err
		}
	}
	for i, j := range s.Tolerant {
		if err := addJoin(j, joinRetry, i, i); err != nil {
			return nil, err
		}
	}
	r.nodump = s.NoDump
	r.setgroupsEarly = s.DropGroupsEarly
	for i := range r.stdio {
		r.stdio[i] = int32(s.Stdio[i])
		if s.Stdio[i] == i {
			// Already in place (and not close-on-exec: fds 0-2 are
			// inherited); nothing to move.
			r.stdio[i] = -1
		}
	}
	for i, fd := range s.ExtraFiles {
		r.extra[i] = int32(fd)
	}
	r.nextra = len(s.ExtraFiles)
	if s.ReadOnly {
		r.readOnly = true
		r.roAttr[0] = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NODEV // attr_set; attr_clr, propagation, userns_fd stay 0
		r.devAttr[1] = unix.MOUNT_ATTR_NODEV                         // attr_clr
		if len(ReadOnlyDevices) > len(r.roDevs) {
			return nil, errors.New("spawn: too many read-only devices")
		}
		for i, d := range ReadOnlyDevices {
			r.roDevs[i] = p.cstr(d)
		}
		r.nroDevs = len(ReadOnlyDevices)
		for _, c := range ReadOnlyDroppedCaps {
			r.roDropCaps |= 1 << uint(c)
		}
	}
	r.rootFd = int32(s.RootFd)
	r.cwdFd = int32(s.CwdFd)
	if s.WdnsPath != "" {
		r.wdnsPath = p.cstr(s.WdnsPath)
	}
	if s.CheckCwd {
		p.buf = make([]byte, 4096)
		r.checkCwd = true
		r.cwdBuf = addrOfByte(&p.buf[0])
		r.cwdLen = uintptr(len(p.buf))
	}
	r.forkForPID = s.ForkForPID
	r.relayForward = s.ForwardSignals
	r.setgroups = s.SetGroups
	r.gid, r.uid = int64(s.GID), int64(s.UID)
	r.keepCaps = s.KeepCaps

	var v []uintptr
	r.argv, v = p.cstrv(s.Argv)
	p.vecs = append(p.vecs, v)
	r.envp, v = p.cstrv(s.Env)
	p.vecs = append(p.vecs, v)
	sh := append([]string{"/bin/sh", ""}, s.Argv[1:]...)
	r.shArgv, v = p.cstrv(sh)
	p.vecs = append(p.vecs, v)
	r.shSlot = addrOfUintptr(&v[1])
	r.shPath = p.cstr("/bin/sh")

	cands := Candidates(s.Path, s.Env)
	if len(cands) > len(r.cands) {
		cands = cands[:len(r.cands)]
	}
	for i, c := range cands {
		r.cands[i] = p.cstr(c)
	}
	r.ncands = len(cands)

	if s.Debug != nil {
		r.debugProc = true
		r.debugUnshare = s.User != nil
	}

	r.clone.flags = clonePidfd
	r.clone.exitSignal = uint64(unix.SIGCHLD)
	r.clone.pidFD = pidfdAddr(r)
	if s.CgroupFd >= 0 {
		r.clone.flags |= cloneIntoCG
		r.clone.cgroup = uint64(s.CgroupFd)
	}
	return p, nil
}

// checkExtraFiles refuses ExtraFiles that no executor can place, so that a
// spec fails the same way whichever executor it takes.
func checkExtraFiles(s *Spec) error {
	if len(s.ExtraFiles) > maxExtraFiles {
		return fmt.Errorf("spawn: %d extra files; at most %d", len(s.ExtraFiles), maxExtraFiles)
	}
	for i, fd := range s.ExtraFiles {
		if fd < 0 {
			return fmt.Errorf("spawn: extra file %d is fd %d", i, fd)
		}
	}
	return nil
}

// Candidates lists the paths execvp(3) would try for program in env's PATH.
func Candidates(program string, env []string) []string {
	if program == "" {
		return nil // execvp("") fails with ENOENT
	}
	if strings.Contains(program, "/") {
		return []string{program}
	}
	path := "/bin:/usr/bin" // glibc's default when PATH is unset
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var out []string
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			out = append(out, program)
			continue
		}
		out = append(out, dir+"/"+program)
	}
	return out
}

// Start clones the child, which joins, changes root and credentials and
// executes the program. It returns once the program runs (or the child
// failed, as a *ChildError after reaping the child).
func Start(s *Spec) (*Process, error) {
	if err := checkExtraFiles(s); err != nil {
		return nil, err
	}
	p, err := prepare(s)
	if err != nil {
		return nil, err
	}
	if sharesMemory(s) { // the step table says what only a copy can do
		if proc, err, ok := startShared(s, p); ok {
			return proc, err
		}
	}
	var us *unsharePipes
	if s.Unshare != nil {
		if us, err = prepareUnshare(p, s); err != nil {
			return nil, err
		}
		defer us.close()
	}
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	p.raw.errPipe = int32(pipe[1])

	type result struct {
		pid, pidfd int
		err        syscall.Errno
	}
	var res result
	if s.Debug != nil {
		var err error
		res.pid, res.pidfd, res.err, err = startDebug(s, &p.raw)
		if err != nil {
			unix.Close(pipe[0])
			unix.Close(pipe[1])
			return nil, err
		}
	} else {
		// The fork is made from this thread, as os/exec does, which stays
		// the goroutine's while fork reads its signal mask; born in the
		// target's PID namespace, if any, by the thread's pre-join.
		waitGate(s)
		if home, ok := prejoinHere(s); ok {
			res.pid, res.pidfd, res.err = fork(&p.raw)
			leavePrejoin(home)
		} else {
			// The way back or the pre-join was refused: a fresh thread
			// joins, forks and ends with its goroutine, or the child
			// joins and forks once more (forkForPID).
			done := make(chan result, 1)
			goOffMain(func() {
				tainted := false
				if err := unix.Setns(s.PrejoinPID, int(s.PIDMask)); err == nil {
					tainted = true
				} else {
					p.raw.forkForPID = true
				}
				pid, pidfd, e := fork(&p.raw)
				done <- result{pid, pidfd, e}
				if !tainted {
					runtime.UnlockOSThread()
				}
				// A thread whose PID namespace for children changed
				// exits with its goroutine rather than serve others.
			})
			res = <-done
		}
	}
	unix.Close(pipe[1])
	runtime.KeepAlive(p)
	if res.err != 0 {
		unix.Close(pipe[0])
		return nil, &ChildError{Stage: StageFork, Index: -1, Errno: res.err}
	}
	proc := &Process{Pid: res.pid, Pidfd: res.pidfd}
	if us != nil {
		us.closeChildEnds()
		if err := runUnshare(s, us, proc); err != nil {
			unix.Close(pipe[0])
			return nil, err
		}
	}
	var buf [12]byte // a report: three int32s in native byte order
	n, rerr := readFull(pipe[0], buf[:])
	unix.Close(pipe[0])
	if rerr != nil || n == 0 {
		return proc, nil
	}
	rep := report{
		stage: Stage(binary.NativeEndian.Uint32(buf[0:])),
		index: int32(binary.NativeEndian.Uint32(buf[4:])),
		errno: int32(binary.NativeEndian.Uint32(buf[8:])),
	}
	return nil, p.reapFailed(proc, rep)
}

// reapFailed reaps a child that reported rep and exited before exec, and
// returns its ChildError.
func (p *prepared) reapFailed(proc *Process, rep report) *ChildError {
	proc.Wait(false)
	proc.Release()
	return p.childError(rep.stage, rep.index, syscall.Errno(rep.errno))
}

// childError turns the raw child's report into a ChildError: a raw join
// index becomes the caller's.
func (p *prepared) childError(st Stage, index int32, e syscall.Errno) *ChildError {
	ce := &ChildError{Stage: st, Index: -1, Errno: e}
	switch {
	case st == StageJoin && index >= 0 && int(index) < len(p.joinOf):
		ce.Index = p.joinOf[index]
	case st == StageStdio && index >= 3:
		ce.Index = int(index)
	}
	return ce
}

func readFull(fd int, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Read(fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

// ExecInPlace runs the sequence on the calling goroutine's thread and
// executes the program in place of this process (--no-fork). User and time
// namespaces cannot be joined this way. It returns only on failure; the
// thread is then unusable and the caller should exit.
func ExecInPlace(s *Spec) error {
	// Extra files are refused too: placing them would replace fds of this
	// still running process (the runtime's epoll fd among them) before
	// the exec.
	if err := refuseInPlace(s); err != nil {
		return err
	}
	p, err := prepare(s)
	if err != nil {
		return err
	}
	p.raw.forkForPID = false
	runtime.LockOSThread()
	// Mount joins and chroot need an fs_struct this thread does not share.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return os.NewSyscallError("unshare", err)
	}
	st, idx, e := runInPlace(&p.raw)
	runtime.KeepAlive(p)
	return p.childError(st, idx, e)
}

// Wait waits for the process to end and returns its status. With
// relayStops, a stop of the child stops this process too (as a shell's job
// would see it) and continuing this process continues the child.
func (p *Process) Wait(relayStops bool) (unix.WaitStatus, error) {
	ws := new(unix.WaitStatus)
	opts := 0
	if relayStops {
		opts = unix.WUNTRACED
	}
	for {
		if _, e := wait4Blocking(p.Pid, ws, opts); e == unix.EINTR {
			continue
		} else if e != 0 {
			return *ws, os.NewSyscallError("wait4", e)
		}
		if ws.Stopped() {
			// A terminal stop (Ctrl-Z) reaches both processes. wait4 may
			// have returned the child's stop just as this process was
			// itself stopped, and the shell's "fg" has since continued
			// both: stopping now would stop nsx a second time. A pending
			// "continued" report tells such a stale stop apart.
			if !consumeContinued(p.Pid) {
				stopSelf()
				unix.Kill(p.Pid, unix.SIGCONT)
				consumeContinued(p.Pid) // so the next stop starts clean
			}
			continue
		}
		return *ws, nil
	}
}

// stopSelf stops this process and returns once it is continued. The stop
// must reach the calling thread before it goes on to continue the child.
// kill(getpid(), SIGSTOP) does not promise that: a signal sent to the
// process wakes the thread group leader (m0) to take it, and a caller on
// any other thread returns from kill and runs until the group stop gets to
// it, long enough to send the child its SIGCONT, so that the child ran on
// while nsx stood stopped (TestNsenterDiff/stop-continue). Sent to the
// calling thread (tgkill, the goroutine locked so that the thread cannot
// change between gettid and tgkill), the stop is taken on the way out of
// the system call, and stops the whole process as any stop signal does.
func stopSelf() {
	runtime.LockOSThread()
	unix.Tgkill(unix.Getpid(), unix.Gettid(), unix.SIGSTOP)
	runtime.UnlockOSThread()
}

// consumeContinued collects a pending report that the child was continued
// (waitid WCONTINUED, which never reaps an exit) and says whether there
// was one.
func consumeContinued(pid int) bool {
	var si unix.Siginfo
	err := unix.Waitid(unix.P_PID, pid, &si, unix.WCONTINUED|unix.WNOHANG, nil)
	return err == nil && si.Code == cldContinued
}

// cldContinued is si_code CLD_CONTINUED.
const cldContinued = 6

// Signal sends sig to the process through its pidfd when it has one.
func (p *Process) Signal(sig unix.Signal) error {
	if p.Pidfd >= 0 {
		return unix.PidfdSendSignal(p.Pidfd, sig, nil, 0)
	}
	return unix.Kill(p.Pid, sig)
}

// Release closes the pidfd.
func (p *Process) Release() {
	if p.Pidfd >= 0 {
		unix.Close(p.Pidfd)
		p.Pidfd = -1
	}
}
