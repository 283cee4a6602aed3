package nsenter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/audit"
	"github.com/nsxproject/nsx/internal/spawn"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
	"github.com/nsxproject/nsx/target"
)

// Cmd is a program to run inside a target's namespaces, used like exec.Cmd.
type Cmd struct {
	// Target is the process whose namespaces are entered; it may be nil
	// when every namespace comes from Options.Files.
	Target  *target.Pinned
	Options Options
	// Path is the program, searched in PATH inside the target when it has
	// no '/'. Empty with no Args runs a login shell ($SHELL, else
	// /bin/sh); empty with Args is a program that cannot be found, as
	// execvp("") is.
	Path string
	// Args holds the arguments including Args[0]; nil means {Path}.
	Args []string
	// Env is the environment; nil means this process's (or the target's
	// with Options.TargetEnv).
	Env []string
	// Stdin, Stdout and Stderr are the program's standard streams. An
	// *os.File is passed as is; other values are copied through pipes;
	// nil is /dev/null.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// ExtraFiles are open files the program gets as fds 3, 4, … (entry i
	// is fd 3+i), as with exec.Cmd. No other fd this process opened
	// close-on-exec (as Go opens every file) reaches the program. Exec
	// refuses them.
	ExtraFiles []*os.File
	// RelayStops makes Wait stop this process while the program is stopped
	// and continue the program when this process is continued, as nsenter
	// does for shells' job control.
	RelayStops bool

	// Process is the started program (or the process relaying for it).
	Process *Process
	// ProcessState is how the program ended, set by Wait.
	ProcessState *ProcessState

	// Cancel, for a Cmd made by CommandContext, is called when the
	// context is done before the program ends; nil means Process.Kill.
	// As with exec.Cmd, a nil result makes Wait return the context's
	// error if the program then exits with status 0, and an error that
	// is not os.ErrProcessDone is returned by Wait.
	Cancel func() error
	// WaitDelay, when positive, bounds the wait after the context is done
	// (the program is then killed) and, once the program has ended, the
	// wait for the copies of Stdin, Stdout and Stderr through pipes
	// (Wait then returns exec.ErrWaitDelay if nothing else went wrong).
	WaitDelay time.Duration

	// The context's watch (cancel_linux.go).
	ctx       context.Context
	ctxStop   chan struct{} // closed by Wait once the program is collected
	ctxResult chan error    // the watcher's verdict: nil, ctx.Err() or a Cancel failure

	closeAfter []io.Closer // the child's ends of pipes, closed once it runs
	ownEnds    []io.Closer // nsx's ends, closed by the copiers or on failure
	copiers    []func() error
	copyErr    chan error

	auditRun *audit.Run // the records of this run (Options.Audit)
}

// Command returns a Cmd that runs name with args in the namespaces that opts
// select of target t.
func Command(t *target.Pinned, opts Options, name string, args ...string) *Cmd {
	return &Cmd{Target: t, Options: opts, Path: name, Args: append([]string{name}, args...)}
}

// Run starts the program and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Start enters and starts the program; it returns once the program runs.
// With a context that is already done it enters nothing and returns the
// context's error.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("nsenter: already started")
	}
	if err := c.checkCtx(); err != nil {
		return err
	}
	b, err := c.build(false, false)
	if err != nil {
		return err
	}
	defer b.close()
	if err := c.stdio(b.spec); err != nil {
		c.closeFiles()
		c.closeOwnEnds()
		return err
	}
	if b.spec.ExtraFiles, err = c.extraFds(); err != nil {
		c.closeFiles()
		c.closeOwnEnds()
		return err
	}
	if err := c.auditStart(b, false); err != nil {
		c.closeFiles()
		c.closeOwnEnds()
		return err
	}
	p, err := spawn.Start(b.spec)
	if b.pidfdJoinFailed(err, unix.EINVAL) {
		// Kernels before 5.8 have pidfds but cannot setns through them,
		// and the kernel gives EINVAL for that as for any other invalid
		// join: try again one namespace file at a time, which either
		// works or names the namespace that failed. Nothing was joined:
		// the failed child or thread is gone.
		stdio, extra := b.spec.Stdio, b.spec.ExtraFiles
		b.close()
		if b, err = c.build(false, true); err != nil {
			// The start record is out: end it, as for a failed start.
			c.closeFiles()
			c.closeOwnEnds()
			c.auditFailed(err)
			return err
		}
		defer b.close()
		b.spec.Stdio, b.spec.ExtraFiles = stdio, extra
		p, err = spawn.Start(b.spec)
	}
	c.closeFiles()
	runtime.KeepAlive(c.ExtraFiles) // their fds were in the spec
	if err != nil {
		c.closeOwnEnds()
		err = b.childError(err)
		c.auditFailed(err)
		return err
	}
	c.Process = newProcess(p)
	c.copyErr = make(chan error, len(c.copiers))
	for _, f := range c.copiers {
		go func() { c.copyErr <- f() }()
	}
	c.watchCtx()
	return nil
}

// Wait waits for the program and its I/O copies to finish. A non-zero exit
// or a death by signal is an *ExitError.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("nsenter: not started")
	}
	if c.ProcessState != nil {
		return errors.New("nsenter: Wait was already called")
	}
	state, ws, err := c.Process.wait(c.RelayStops)
	ctxErr := c.endCtxWatch()
	if err != nil {
		c.auditRun.EndError(1, err)
		return err
	}
	c.auditRun.End(ws)
	c.ProcessState = state
	copyErr := c.awaitCopies()
	switch {
	case !state.Success():
		return &ExitError{ProcessState: state}
	case ctxErr != nil:
		return ctxErr
	}
	return copyErr
}

// awaitCopies waits for the I/O copies, at most WaitDelay when it is set,
// and returns the first error.
func (c *Cmd) awaitCopies() error {
	var timeout <-chan time.Time
	if c.WaitDelay > 0 {
		timer := time.NewTimer(c.WaitDelay)
		defer timer.Stop()
		timeout = timer.C
	}
	var copyErr error
	for range c.copiers {
		select {
		case e := <-c.copyErr:
			if e != nil && copyErr == nil {
				copyErr = e
			}
		case <-timeout:
			// Something the program started still holds a pipe: stop
			// copying. copyErr is buffered, so late copiers never block.
			c.closeOwnEnds()
			if copyErr == nil {
				copyErr = exec.ErrWaitDelay
			}
			return copyErr
		}
	}
	return copyErr
}

// Signal sends sig to the started program, as c.Process.Signal does. Once
// Wait has collected the program, it does nothing and returns nil.
func (c *Cmd) Signal(sig os.Signal) error {
	if c.Process == nil {
		return errors.New("nsenter: not started")
	}
	if err := c.Process.Signal(sig); err != os.ErrProcessDone {
		return err
	}
	return nil
}

// Exec enters and executes the program in place of this process, without a
// fork (nsenter -F). It returns only on failure. User and time namespaces
// cannot be entered this way: the kernel requires a single-threaded process
// for them, and a Go program never is one.
func (c *Cmd) Exec() error {
	if len(c.ExtraFiles) > 0 {
		return errors.New("nsenter: ExtraFiles cannot be passed to a program executed in place")
	}
	b, err := c.build(true, false)
	if err != nil {
		return err
	}
	defer b.close()
	if err := c.auditStart(b, true); err != nil {
		return err
	}
	err = b.childError(spawn.ExecInPlace(b.spec))
	c.auditFailed(err)
	return err
}

// Plan returns what Start would do, without doing it.
func (c *Cmd) Plan() (*Plan, error) {
	b, err := c.build(c.Options.NoFork, false)
	if err != nil {
		return nil, err
	}
	defer b.close()
	for _, fill := range b.fillIDs {
		fill()
	}
	return b.plan, nil
}

// build is the state of one preparation: fds opened for the child and the
// messages for each join entry.
type build struct {
	spec     *spawn.Spec
	plan     *Plan
	fds      []int
	joinMsgs []string // per Tolerant entry, then the User entry
	pidfdIdx []int    // the join entries that go through the pidfd
	fillIDs  []func() // reads the plan's namespace IDs, for Plan
	program  string
	toolbox  string // the debug toolbox, absolute
	// cwdFromCaller: the working directory was chosen with -w, so a
	// refusal names that option.
	cwdFromCaller bool
}

func (b *build) close() {
	for _, fd := range b.fds {
		unix.Close(fd)
	}
	b.fds = nil
}

func (b *build) keep(fd int) int {
	b.fds = append(b.fds, fd)
	return fd
}

// pidfdJoinFailed reports whether err is a join through the pidfd failing
// with errno.
func (b *build) pidfdJoinFailed(err error, errno syscall.Errno) bool {
	var ce *spawn.ChildError
	if !errors.As(err, &ce) || ce.Stage != spawn.StageJoin || ce.Errno != errno {
		return false
	}
	for _, i := range b.pidfdIdx {
		if i == ce.Index {
			return true
		}
	}
	return false
}

func (b *build) childError(err error) error {
	var de *spawn.DebugError
	if errors.As(err, &de) {
		return errorf(nil, "debug: cannot %s: %s", de.Step, debugCause(de.Err))
	}
	var ce *spawn.ChildError
	if !errors.As(err, &ce) {
		return err
	}
	e := ce.Errno
	switch ce.Stage {
	case spawn.StageJoin:
		if ce.Index >= 0 && ce.Index < len(b.joinMsgs) {
			return errorf(e, "%s", b.joinMsgs[ce.Index])
		}
		return errorf(e, "reassociate to namespaces failed")
	case spawn.StagePrivateMounts:
		return errorf(e, "--read-only: cannot make a private copy of the mount namespace")
	case spawn.StageReadOnly:
		return errorf(e, "--read-only: cannot make the mounts read-only")
	case spawn.StageRootDir:
		return errorf(e, "change directory by root file descriptor failed")
	case spawn.StageChroot:
		return errorf(e, "chroot failed")
	case spawn.StageChdirRoot:
		return errorf(e, "cannot change directory to /")
	case spawn.StageWdns:
		if e == syscall.ENOTDIR {
			// util-linux opens the path and then fchdirs to it, so a
			// file that is not a directory fails at the second step.
			return errorf(e, "change directory by working directory file descriptor failed")
		}
		return errorf(e, "cannot open current working directory")
	case spawn.StageCwd:
		return errorf(e, "change directory by working directory file descriptor failed")
	case spawn.StageCwdEscape:
		if b.cwdFromCaller {
			return errorf(nil, "the working directory given with -w/--wd is outside the program's root directory; for a directory inside the target use -W/--wdns DIR")
		}
		return errorf(nil, "the working directory is outside the root directory: refusing to run the program there")
	case spawn.StageCgroup:
		return errorf(e, "write cgroup.procs failed")
	case spawn.StageFork:
		return errorf(e, "fork failed")
	case spawn.StageSetgroups:
		return errorf(e, "setgroups failed")
	case spawn.StageSetgid:
		return errorf(e, "setgid() failed")
	case spawn.StageSetuid:
		return errorf(e, "setuid() failed")
	case spawn.StageCapget:
		return errorf(e, "capget failed")
	case spawn.StageCapset:
		return errorf(e, "capset failed")
	case spawn.StageAmbient:
		return errorf(e, "prctl(PR_CAP_AMBIENT) failed")
	case spawn.StageStdio:
		return errorf(e, "cannot set up standard streams")
	case spawn.StageDebugProc:
		return errorf(e, "debug: cannot mount /proc of the target's PID namespace")
	case spawn.StageExec:
		code := 126
		if e == syscall.ENOENT {
			code = 127
		}
		return &Error{Msg: "failed to execute " + b.program, Err: e, ExitCode: code}
	}
	return err
}

// build turns the options into a spawn spec and a plan.
func (c *Cmd) build(inPlace, perFile bool) (_ *build, err error) {
	opts := c.Options.effective()
	o := &opts
	t := c.Target
	b := &build{plan: &Plan{UID: -1, GID: -1}}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if o.Debug != nil {
		if err := debugRefused(o, t, inPlace); err != nil {
			return nil, err
		}
	}
	s := &spawn.Spec{PrejoinPID: -1, RootFd: -1, CwdFd: -1, CgroupFd: -1, UID: -1, GID: -1, Stdio: [3]int{-1, -1, -1}}
	b.spec = s
	p := b.plan
	if t != nil {
		p.Target = t.Ref.String()
		if t.Container != nil {
			p.Target += fmt.Sprintf(" (%s %s, PID %d, found by %s)", t.Container.Runtime, shortID(t.Container.ID), t.PID, t.Container.Source)
		} else if t.PID != 0 {
			p.Target = fmt.Sprintf("PID %d", t.PID)
		}
	}

	// Which kinds, from where.
	want := o.Kinds
	files := map[namespace.Kind]int{}
	for k, f := range o.Files {
		files[k] = int(f.Fd())
		want = want.Add(k)
	}
	if t != nil && t.File != nil {
		// A namespace-file target stands for its own kind.
		files[t.FileKind] = int(t.File.Fd())
		want = want.Add(t.FileKind)
	}
	needPID := func(what string) error {
		if t == nil || t.PID == 0 {
			return errorf(nil, "no target PID specified%s", what)
		}
		return nil
	}
	all := o.All
	if all && t != nil && t.File != nil && o.Kinds == 0 {
		// "nsx enter /run/netns/blue": a namespace file stands for its
		// own kind; there is no process to take the others from.
		all = false
	}
	if all {
		if err := needPID(" for --all"); err != nil {
			return nil, err
		}
	}
	if t == nil || t.PID == 0 {
		// util-linux 2.41 opens the target's files before it looks at
		// the namespaces, and names the first it cannot open (the
		// follow ids have no name there).
		for _, need := range []struct {
			on   bool
			what string
		}{
			{o.Root && o.RootDir == nil, "root"},
			{o.WorkDir && o.WorkDirFile == nil, "cwd"},
			{o.TargetEnv, "environ"},
			// 2.41 on a cgroup v2 host (on a hybrid one it refuses -c
			// first; nsx supports -c there, docs/compat.md).
			{o.JoinCgroup, "cgroup"},
			{o.FollowUID || o.FollowGID, ""},
		} {
			if need.on {
				return nil, errorf(nil, "neither filename nor target pid supplied for %s", need.what)
			}
		}
	}
	own := map[namespace.Kind]namespace.ID{}
	ids := map[namespace.Kind]namespace.ID{}
	ownID := func(k namespace.Kind) namespace.ID {
		if id, ok := own[k]; ok {
			return id
		}
		id, _ := namespace.StatPath("/proc/self/ns/" + k.ProcName())
		own[k] = id
		return id
	}
	targetID := func(k namespace.Kind) (namespace.ID, error) {
		if id, ok := ids[k]; ok {
			return id, nil
		}
		fd, err := t.OpenNS(k)
		if err != nil {
			return 0, err
		}
		id, err := namespace.Stat(fd)
		unix.Close(fd)
		ids[k] = id
		return id, err
	}
	if all {
		supported := namespace.Supported()
		intoContainerUserns := containerUsernsDiffers(t, targetID, ownID)
		for _, k := range namespace.All {
			if want.Has(k) {
				continue
			}
			if intoContainerUserns && k != namespace.User && k != namespace.Mount {
				if id, err := targetID(k); err == nil && id == ownID(k) {
					p.Skipped = append(p.Skipped, Skip{k, fmt.Sprintf("%s:[%d] is nsx's own; the container's user namespace may not join it", k.ProcName(), id)})
					continue
				}
			}
			if !supported.Has(k) {
				p.Skipped = append(p.Skipped, Skip{k, "this kernel has no such namespace"})
				continue
			}
			if _, explicit := files[k]; explicit {
				continue
			}
			if k == namespace.Time {
				if skip, ok := sameTimeNamespace(targetID, ownID, inPlace); ok {
					p.Skipped = append(p.Skipped, skip)
					continue
				}
			}
			if k == namespace.User {
				id, err := targetID(k)
				if err != nil {
					return nil, errorf(unwrapErrno(err), "stat of /proc/%d/ns/user failed", t.PID)
				}
				if id == ownID(k) {
					p.Skipped = append(p.Skipped, Skip{k, fmt.Sprintf("user:[%d] is nsx's own user namespace (the kernel refuses to re-enter it)", id)})
					continue
				}
			}
			want = want.Add(k)
		}
	}
	fromTarget := namespace.Set(0)
	for _, k := range want.Kinds() {
		if _, ok := files[k]; !ok {
			fromTarget = fromTarget.Add(k)
		}
	}
	if o.Debug != nil && o.All {
		// Debug: every kind but mount, whose place a new one takes.
		want, fromTarget = want.Remove(namespace.Mount), fromTarget.Remove(namespace.Mount)
	}
	if o.NetSocketFd >= 0 || o.UserParent {
		if err := needPID(""); err != nil {
			return nil, err
		}
	}
	if fromTarget != 0 {
		if err := needPID(""); err != nil {
			return nil, err
		}
	}
	if want == 0 && o.NetSocketFd < 0 && !o.UserParent {
		return nil, errorf(nil, "no namespace specified")
	}
	if inPlace && (want.Has(namespace.User) || want.Has(namespace.Time) || o.UserParent) {
		return nil, errorf(nil, "--no-fork cannot enter a user or time namespace: the kernel lets only a single-threaded process join those, and nsx (a Go program) is multithreaded; drop -F and nsx forks a single-threaded child for them")
	}

	// The net namespace of a socket of the target (-N) replaces the
	// target's net namespace.
	if o.NetSocketFd >= 0 {
		fd, err := socketNetns(t, o.NetSocketFd)
		if err != nil {
			return nil, err
		}
		files[namespace.Net] = b.keep(fd)
		fromTarget = fromTarget.Remove(namespace.Net)
		want = want.Add(namespace.Net)
	}
	userParentFd := -1
	if o.UserParent {
		src := -1
		if f, ok := files[namespace.User]; ok {
			src = f
		} else {
			fd, err := t.OpenNS(namespace.User)
			if err != nil {
				return nil, errorf(unwrapErrno(err), "failed to open parent namespace")
			}
			src = b.keep(fd)
		}
		fd, err := namespace.ParentFd(src)
		if err != nil {
			return nil, errorf(err, "failed to open parent namespace")
		}
		userParentFd = b.keep(fd)
		fromTarget = fromTarget.Remove(namespace.User)
		want = want.Add(namespace.User)
	}

	// Explicitly entering our own user namespace is an error the kernel
	// reports as EINVAL; say so before doing anything.
	if fromTarget.Has(namespace.User) {
		id, err := targetID(namespace.User)
		if err == nil && id == ownID(namespace.User) {
			return nil, errorf(unix.EINVAL, "reassociate to namespace 'ns/user' failed")
		}
	}

	// Joins: the target's kinds through its pidfd in one call per pass,
	// then explicit files one by one; or every kind per file without a
	// pidfd.
	usePidfd := t != nil && t.Pidfd >= 0 && fromTarget != 0 && !perFile
	p.Mechanism = "setns per namespace file"
	nonUser := fromTarget.Remove(namespace.User)
	if usePidfd {
		p.Mechanism = "setns(pidfd) for the target's namespaces"
		if len(files) > 0 {
			p.Mechanism += ", setns per file for the others"
		}
		if nonUser != 0 {
			b.pidfdIdx = append(b.pidfdIdx, len(s.Tolerant))
			s.Tolerant = append(s.Tolerant, spawn.Join{Fd: t.Pidfd, Mask: uint32(nonUser)})
			b.joinMsgs = append(b.joinMsgs, "reassociate to namespaces failed")
		}
	} else {
		for _, k := range nonUser.Kinds() {
			fd, err := t.OpenNS(k)
			if err != nil {
				return nil, errorf(unwrapErrno(err), "cannot open /proc/%d/ns/%s", t.PID, k.ProcName())
			}
			s.Tolerant = append(s.Tolerant, spawn.Join{Fd: b.keep(fd), Mask: uint32(k)})
			b.joinMsgs = append(b.joinMsgs, fmt.Sprintf("reassociate to namespace 'ns/%s' failed", k.ProcName()))
		}
	}
	for _, k := range namespace.All {
		fd, ok := files[k]
		if !ok || k == namespace.User {
			continue
		}
		// The kind is passed so that a file of another kind is refused
		// (EINVAL), as util-linux does.
		s.Tolerant = append(s.Tolerant, spawn.Join{Fd: fd, Mask: uint32(k)})
		b.joinMsgs = append(b.joinMsgs, fmt.Sprintf("reassociate to namespace 'ns/%s' failed", k.ProcName()))
	}
	switch {
	case userParentFd >= 0:
		s.User = &spawn.Join{Fd: userParentFd, Mask: uint32(namespace.User)}
	case hasKey(files, namespace.User):
		s.User = &spawn.Join{Fd: files[namespace.User], Mask: uint32(namespace.User)}
	case fromTarget.Has(namespace.User):
		if usePidfd {
			b.pidfdIdx = append(b.pidfdIdx, len(s.Tolerant))
			s.User = &spawn.Join{Fd: t.Pidfd, Mask: uint32(namespace.User)}
		} else {
			fd, err := t.OpenNS(namespace.User)
			if err != nil {
				return nil, errorf(unwrapErrno(err), "cannot open /proc/%d/ns/user", t.PID)
			}
			s.User = &spawn.Join{Fd: b.keep(fd), Mask: uint32(namespace.User)}
		}
	}
	if s.User != nil {
		b.joinMsgs = append(b.joinMsgs, "reassociate to namespace 'ns/user' failed")
	}

	// The plan's view of the joins. Namespace IDs cost syscalls and only
	// --explain shows them, so Plan reads them; Start does not.
	order := want.Remove(namespace.User).Kinds()
	if want.Has(namespace.User) {
		order = append(order, namespace.User)
	}
	for _, k := range order {
		st := Step{Kind: k, Source: "target"}
		fd := -1
		switch {
		case k == namespace.User && userParentFd >= 0:
			st.Source, fd = "parent of the target's user namespace", userParentFd
		case k == namespace.Net && o.NetSocketFd >= 0:
			st.Source, fd = fmt.Sprintf("target's socket fd %d", o.NetSocketFd), files[k]
		case hasKey(files, k):
			fd = files[k]
			if f, ok := o.Files[k]; ok {
				st.Source = "file " + f.Name()
			} else if t != nil && t.File != nil {
				st.Source = "file " + t.File.Name()
			}
		}
		i := len(p.Steps)
		p.Steps = append(p.Steps, st)
		b.fillIDs = append(b.fillIDs, func() {
			p.Steps[i].Own = ownID(k)
			var err error
			if fd >= 0 {
				p.Steps[i].ID, err = namespace.Stat(fd)
			} else {
				p.Steps[i].ID, err = targetID(k)
			}
			if err != nil {
				p.Steps[i].IDErr = Strerror(unwrapErrno(err))
			}
		})
	}

	// A PID namespace applies to children: fork, unless told not to. The
	// parent joins it first, so that the child is born inside and can
	// exec the program itself.
	enterPID := want.Has(namespace.PID)
	switch {
	case inPlace:
		p.ForkReason = "--no-fork"
	case enterPID:
		p.Fork, p.ForkReason = true, "a PID namespace applies to children only"
		if fd, ok := files[namespace.PID]; ok {
			s.PrejoinPID, s.PIDMask = fd, uint32(namespace.PID)
		} else if usePidfd {
			s.PrejoinPID, s.PIDMask = t.Pidfd, uint32(namespace.PID)
		} else if len(s.Tolerant) > 0 {
			for i, k := range nonUser.Kinds() {
				if k == namespace.PID {
					s.PrejoinPID, s.PIDMask = s.Tolerant[i].Fd, uint32(namespace.PID)
				}
			}
		}
		s.ForkForPID = s.PrejoinPID < 0
	default:
		p.Fork, p.ForkReason = true, "nsx always runs the program in a single-threaded child; no PID namespace is entered"
	}

	if o.ReadOnly {
		if err := b.readOnly(o, want); err != nil {
			return nil, err
		}
	}

	// Root and working directory.
	p.Root, p.Cwd = "unchanged", "unchanged"
	if want.Has(namespace.Mount) {
		p.Root, p.Cwd = "the mount namespace's root", "the mount namespace's root"
	}
	if o.Root {
		fd := -1
		if o.RootDir != nil {
			fd = int(o.RootDir.Fd())
			p.Root = o.RootDir.Name()
		} else {
			if err := needPID(""); err != nil {
				return nil, err
			}
			if fd, err = t.OpenAt("root", unix.O_PATH|unix.O_DIRECTORY); err != nil {
				return nil, errorf(unwrapErrno(err), "cannot open /proc/%d/root", t.PID)
			}
			b.keep(fd)
			p.Root = "the target's root"
		}
		s.RootFd = fd
		s.CheckCwd = true
		p.Cwd = "/ of the new root"
	}
	if o.WorkDir && o.WdnsGiven {
		return nil, errorf(nil, "mutually exclusive arguments: --wdns --wd")
	}
	if o.WorkDir {
		if o.WorkDirFile != nil {
			s.CwdFd = int(o.WorkDirFile.Fd())
			p.Cwd = o.WorkDirFile.Name()
		} else {
			if err := needPID(""); err != nil {
				return nil, err
			}
			fd, err := t.OpenAt("cwd", unix.O_PATH|unix.O_DIRECTORY)
			if err != nil {
				return nil, errorf(unwrapErrno(err), "cannot open /proc/%d/cwd", t.PID)
			}
			s.CwdFd = b.keep(fd)
			p.Cwd = "the target's working directory"
		}
	}
	if o.ConfineCwd {
		s.CheckCwd = true
		b.cwdFromCaller = o.WorkDir
	}
	if o.WdnsEmpty {
		return nil, errorf(unix.ENOENT, "cannot open current working directory")
	}
	if o.WorkDirInNS != "" {
		s.WdnsPath = o.WorkDirInNS
		p.Cwd = o.WorkDirInNS + " (resolved after entering)"
	}

	if o.Debug != nil {
		if err := b.debug(o, t, want); err != nil {
			return nil, err
		}
	}

	// Environment.
	env := c.Env
	p.Env = "nsx's own"
	if c.Env != nil {
		p.Env = "given by the caller"
	}
	if o.TargetEnv {
		if err := needPID(""); err != nil {
			return nil, err
		}
		if env, err = targetEnviron(t); err != nil {
			return nil, err
		}
		p.Env = "the target's"
	} else if env == nil {
		env = os.Environ()
	}
	if len(o.SetEnv) > 0 {
		env = setEnv(env, o.SetEnv)
		p.Env += ", with --setenv " + strings.Join(o.SetEnv, " ")
	}
	if o.Debug != nil {
		env = debugEnv(env, t.Ref.String())
		p.Env += ", plus NSX_TARGET and a PS1 naming the target"
	}
	s.Env = env

	// Cgroup.
	if o.JoinCgroup {
		if err := needPID(""); err != nil {
			return nil, err
		}
		fd, path, err := targetCgroup(t)
		if err != nil {
			return nil, err
		}
		s.CgroupFd = b.keep(fd)
		p.Cgroup = path
		if inPlace {
			return nil, errorf(nil, "--join-cgroup with --no-fork is not supported: nsx starts the program directly in the cgroup (clone3 CLONE_INTO_CGROUP), which needs a fork")
		}
	}

	// Credentials.
	userEntered := want.Has(namespace.User)
	if userEntered && !o.PreserveCredentials {
		s.UID, s.GID, s.SetGroups, s.DropGroupsEarly = 0, 0, true, true
	}
	if o.FollowUID || o.FollowGID {
		if err := needPID(""); err != nil {
			return nil, err
		}
		uid, gid, err := followIDs(t, userEntered)
		if err != nil {
			return nil, err
		}
		if o.FollowUID {
			s.UID = uid
		}
		if o.FollowGID {
			s.GID = gid
			s.SetGroups = true
		}
	}
	if o.UID >= 0 {
		s.UID = o.UID
	}
	if o.GID >= 0 {
		s.GID = o.GID
		s.SetGroups = true
	}
	if o.As != "" {
		root, err := c.programRoot(want)
		if err != nil {
			return nil, errorf(unwrapErrno(err), "--as %s: cannot open the program's root", o.As)
		}
		uid, gid, err := resolveAs(root, o.As)
		if root >= 0 {
			unix.Close(root)
		}
		if err != nil {
			return nil, err
		}
		s.UID, s.SetGroups = uid, true
		if gid >= 0 {
			s.GID = gid
		}
	}
	// util-linux drops supplementary groups once before the joins, while
	// still privileged where it started, whenever it sets a group; the
	// second try in the entered user namespace fails only if both do.
	s.DropGroupsEarly = s.DropGroupsEarly || s.SetGroups
	s.KeepCaps = o.KeepCaps && userEntered
	p.UID, p.GID, p.DropGroups, p.KeepCaps = s.UID, s.GID, s.SetGroups, s.KeepCaps
	s.NoDump = true
	// The relaying process, when there is one, is as invisible as nsx.
	s.ForwardSignals = true

	// Program.
	path, argv := c.Path, c.Args
	if o.Debug != nil {
		if path, argv, err = b.debugProgram(path, argv); err != nil {
			return nil, err
		}
	}
	if path == "" && len(argv) == 0 {
		// The login shell comes from the program's environment: with -e
		// that is the target's, as util-linux 2.41 resets the
		// environment before it looks SHELL up.
		shell, ok := lookupEnv(env, "SHELL")
		if !ok {
			shell = "/bin/sh"
		}
		p.Shell = shell + " ($SHELL)"
		if !ok {
			p.Shell = shell + " ($SHELL is not set)"
		}
		if o.ShellFallback && shell != "/bin/sh" {
			// nsx enter: $SHELL is the caller's; the target may not
			// have it (a busybox container has no /bin/bash).
			if root, err := c.programRoot(want); err == nil && root >= 0 {
				if !existsInRoot(root, shell) {
					p.Shell = fmt.Sprintf("/bin/sh ($SHELL %s does not exist in the target)", shell)
					shell = "/bin/sh"
				}
				unix.Close(root)
			}
		}
		path, argv = shell, []string{"-" + filepath.Base(shell)}
	} else if len(argv) == 0 {
		argv = []string{path}
	}
	s.Path, s.Argv = path, argv
	b.program = path
	p.Program = argv
	return b, nil
}

// sameTimeNamespace reports whether -a can leave the time namespace out
// because the target's is nsx's own. Joining it would change nothing the
// program can observe (the clocks and their offsets are the same), but a
// time join needs a single-threaded process: a full fork instead of the
// vfork of the fast path. Most containers share the host's time namespace.
func sameTimeNamespace(targetID func(namespace.Kind) (namespace.ID, error), ownID func(namespace.Kind) namespace.ID, inPlace bool) (Skip, bool) {
	id, err := targetID(namespace.Time)
	if err != nil || id == 0 || id != ownID(namespace.Time) {
		return Skip{}, false
	}
	why := fmt.Sprintf("time:[%d] is nsx's own: joining it would change nothing", id)
	if inPlace {
		why = fmt.Sprintf("time:[%d] is nsx's own and --no-fork cannot join time namespaces", id)
	}
	return Skip{namespace.Time, why}, true
}

// readOnly asks for a private read-only copy of the mount namespace. The
// root and working directory fds of -r and -w point into the target's own
// namespace, not the copy, so they cannot be combined with it.
func (b *build) readOnly(o *Options, want namespace.Set) error {
	if !want.Has(namespace.Mount) {
		return errorf(nil, "--read-only needs the mount namespace entered (-m or -a)")
	}
	if o.Root || o.WorkDir {
		return errorf(nil, "--read-only cannot be combined with --root or --wd: their directories are in the target's writable mounts, not in the read-only copy (use --wdns for a directory inside)")
	}
	b.spec.ReadOnly = true
	b.plan.ReadOnly = true
	return nil
}

// lookupEnv finds a variable in an environment list; the first one wins,
// as with getenv(3).
func lookupEnv(env []string, name string) (string, bool) {
	for i := range env {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func hasKey(m map[namespace.Kind]int, k namespace.Kind) bool {
	_, ok := m[k]
	return ok
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// unwrapErrno returns the errno inside err, for util-linux style messages
// that print the path themselves.
func unwrapErrno(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// socketNetns returns the net namespace of the target's socket fd.
func socketNetns(t *target.Pinned, fd int) (int, error) {
	if t.Pidfd < 0 {
		return -1, errorf(nil, "failed to pidfd_open() for %d", t.PID)
	}
	sock, err := unix.PidfdGetfd(t.Pidfd, fd, 0)
	if err != nil {
		return -1, errorf(err, "pidfd_getfd(%d, %d)", t.Pidfd, fd)
	}
	defer unix.Close(sock)
	var st unix.Stat_t
	if err := unix.Fstat(sock, &st); err != nil {
		return -1, errorf(err, "fstat(%d)", sock)
	}
	ns, err := unix.IoctlRetInt(sock, unix.SIOCGSKNS)
	if err != nil {
		return -1, errorf(err, "ioctl(%d, SIOCGSKNS)", sock)
	}
	return ns, nil
}

// targetEnviron reads the target's environment the way nsenter -e builds
// it: entries without '=' dropped, the last of duplicates winning, and the
// result in reverse order of the entries.
func targetEnviron(t *target.Pinned) ([]string, error) {
	data, err := t.ReadFile("environ")
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Op == "open" {
		return nil, errorf(pe.Err, "cannot open /proc/%d/environ", t.PID)
	} else if err != nil {
		return nil, errorf(unwrapErrno(err), "failed to get environment variables")
	}
	entries := strings.Split(string(data), "\x00")
	seen := map[string]bool{}
	env := []string{}
	for i := len(entries) - 1; i >= 0; i-- {
		name, _, ok := strings.Cut(entries[i], "=")
		if !ok {
			continue
		}
		if name == "" {
			return nil, errorf(unix.EINVAL, "failed to set environment variables")
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		env = append(env, entries[i])
	}
	return env, nil
}

// targetCgroup opens the target's cgroup v2 directory. On a hybrid host the
// v2 hierarchy is mounted elsewhere than /sys/fs/cgroup; nsx finds it.
func targetCgroup(t *target.Pinned) (int, string, error) {
	data, err := t.ReadFile("cgroup")
	if err != nil {
		return -1, "", errorf(unwrapErrno(err), "failed to get cgroup path")
	}
	lines, err := procfs.ParseCgroup(string(data))
	if err != nil {
		return -1, "", errorf(err, "failed to get cgroup path")
	}
	rel, ok := procfs.UnifiedPath(lines)
	if !ok {
		return -1, "", errorf(nil, "--join-cgroup is only supported in cgroup v2")
	}
	mnt, mntRoot, err := cgroup2Mount()
	if err != nil {
		return -1, "", err
	}
	under, ok := cgroupUnder(mntRoot, rel)
	if !ok {
		return -1, "", errorf(nil, "the target's cgroup %s is not below the cgroup2 mount at %s (its root is %s)", rel, mnt, mntRoot)
	}
	path := filepath.Join(mnt, under)
	dir, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", errorf(err, "failed to open %s", path)
	}
	return dir, path, nil
}

func cgroup2Mount() (mountPoint, root string, err error) {
	mounts, err := procfs.ReadMountinfo(0)
	if err != nil {
		return "", "", errorf(unwrapErrno(err), "statfs /sys/fs/cgroup failed")
	}
	m, ok := visibleCgroup2(mounts)
	if !ok {
		return "", "", errorf(nil, "--join-cgroup is only supported in cgroup v2")
	}
	return m.MountPoint, m.Root, nil
}

// visibleCgroup2 picks the cgroup2 mount a path lookup reaches: the last
// one in mountinfo order (later mounts stack on earlier ones) that no later
// mount covers, at its own mount point or above it.
func visibleCgroup2(mounts []procfs.Mount) (procfs.Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		m := mounts[i]
		if m.FSType != "cgroup2" {
			continue
		}
		covered := false
		for _, later := range mounts[i+1:] {
			if later.MountPoint == m.MountPoint || later.MountPoint == "/" ||
				strings.HasPrefix(m.MountPoint, later.MountPoint+"/") {
				covered = true
				break
			}
		}
		if !covered {
			return m, true
		}
	}
	return procfs.Mount{}, false
}

// cgroupUnder maps a cgroup path (as /proc/PID/cgroup gives it) to a path
// below a cgroup2 mount whose root is mountRoot; ok is false when the mount
// does not show that cgroup.
func cgroupUnder(mountRoot, cgroup string) (string, bool) {
	if mountRoot == "/" || mountRoot == "" {
		return cgroup, true
	}
	if cgroup == mountRoot {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(cgroup, mountRoot+"/"); ok {
		return "/" + rest, true
	}
	return "", false
}

// followIDs returns the owner of the target's /proc entry, as seen from the
// target's user namespace when that is entered (-S follow, -G follow).
func followIDs(t *target.Pinned, mapped bool) (int, int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(t.ProcDir, &st); err != nil {
		return -1, -1, errorf(err, "stat of /proc/%d failed", t.PID)
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if !mapped {
		return uid, gid, nil
	}
	return mapID(t, "uid_map", uid), mapID(t, "gid_map", gid), nil
}

// mapID maps a host id into the target's user namespace; unmapped ids show
// as the overflow id 65534, as the kernel shows them.
func mapID(t *target.Pinned, file string, id int) int {
	data, err := t.ReadFile(file)
	if err != nil {
		return 65534
	}
	m, err := procfs.ParseIDMap(string(data))
	if err != nil {
		return 65534
	}
	if inside, ok := m.ToInside(uint32(id)); ok {
		return int(inside)
	}
	return 65534
}

// stdio decides the child's fds 0-2 and the copies for non-file streams.
func (c *Cmd) stdio(s *spawn.Spec) error {
	in := []any{c.Stdin, c.Stdout, c.Stderr}
	for i, v := range in {
		switch x := v.(type) {
		case *os.File:
			if x == nil {
				return c.devNull(s, i)
			}
			s.Stdio[i] = int(x.Fd())
		case nil:
			if err := c.devNull(s, i); err != nil {
				return err
			}
		default:
			if i == 2 && sameWriter(c.Stderr, c.Stdout) {
				// One pipe for both, as exec.Cmd: the program's writes
				// stay in order and one copier writes to the writer.
				s.Stdio[2] = s.Stdio[1]
				continue
			}
			r, w, err := os.Pipe()
			if err != nil {
				return err
			}
			if i == 0 {
				s.Stdio[i] = int(r.Fd())
				c.closeAfter = append(c.closeAfter, r)
				c.ownEnds = append(c.ownEnds, w)
				src := x.(io.Reader)
				c.copiers = append(c.copiers, func() error {
					_, err := io.Copy(w, src)
					w.Close()
					if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
						// The program closed its input or ended
						// without reading it all: not an error.
						err = nil
					}
					return err
				})
			} else {
				s.Stdio[i] = int(w.Fd())
				c.closeAfter = append(c.closeAfter, w)
				c.ownEnds = append(c.ownEnds, r)
				dst := x.(io.Writer)
				c.copiers = append(c.copiers, func() error {
					_, err := io.Copy(dst, r)
					r.Close()
					return err
				})
			}
		}
	}
	return nil
}

// extraFds returns the fds of ExtraFiles, for the spec.
func (c *Cmd) extraFds() ([]int, error) {
	if len(c.ExtraFiles) == 0 {
		return nil, nil
	}
	fds := make([]int, len(c.ExtraFiles))
	for i, f := range c.ExtraFiles {
		if f == nil {
			return nil, fmt.Errorf("nsenter: ExtraFiles[%d] is nil", i)
		}
		fds[i] = int(f.Fd())
	}
	return fds, nil
}

// sameWriter reports whether a and b are one writer; values of types that
// cannot be compared are never the same.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

func (c *Cmd) devNull(s *spawn.Spec, i int) error {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	c.closeAfter = append(c.closeAfter, f)
	s.Stdio[i] = int(f.Fd())
	return nil
}

// closeOwnEnds closes nsx's ends of the pipes when the copiers will never
// run, and forgets the copiers.
func (c *Cmd) closeOwnEnds() {
	for _, f := range c.ownEnds {
		f.Close()
	}
	c.ownEnds, c.copiers = nil, nil
}

func (c *Cmd) closeFiles() {
	for _, f := range c.closeAfter {
		f.Close()
	}
	c.closeAfter = nil
}

// containerUsernsDiffers reports a container target with a user namespace
// of its own (rootless podman, userns-remap). A namespace of such a
// container that is the caller's own (its cgroup or time namespace, say)
// is owned by a user namespace the program leaves when it joins the
// container's: joining it again from there is EPERM, and not joining it
// changes nothing. So a container target's implied "all" leaves those out.
// (Issue 9, rootless containers; a PID target with -a keeps util-linux's
// behaviour.)
func containerUsernsDiffers(t *target.Pinned, targetID func(namespace.Kind) (namespace.ID, error), ownID func(namespace.Kind) namespace.ID) bool {
	if t == nil || t.Container == nil {
		return false
	}
	id, err := targetID(namespace.User)
	return err == nil && id != ownID(namespace.User)
}
