package nsenter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/audit"
	"github.com/nsxproject/nsx/internal/spawn"
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
	b.spec.StartGate = spawn.StartGateFrom(c.ctx)
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
		b.spec.StartGate = spawn.StartGateFrom(c.ctx)
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
	b.readIDs()
	return b.plan, nil
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
