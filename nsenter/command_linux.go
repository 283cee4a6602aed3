package nsenter

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"

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
	// RelayStops makes Wait stop this process while the program is stopped
	// and continue the program when this process is continued, as nsenter
	// does for shells' job control.
	RelayStops bool

	// Process is the started program (or the process relaying for it).
	Process *spawn.Process
	// ProcessState is set by Wait.
	ProcessState *unix.WaitStatus

	// signalMu orders Signal against Wait's release of the pidfd, so a
	// signal never goes to a reused fd number; released is set under it.
	signalMu sync.Mutex
	released bool

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

// ExitError reports a program that did not exit with status 0.
type ExitError struct {
	Status unix.WaitStatus
}

func (e *ExitError) Error() string {
	if e.Status.Signaled() {
		return "signal: " + e.Status.Signal().String()
	}
	return "exit status " + strconv.Itoa(e.Status.ExitStatus())
}

// Run starts the program and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Start enters and starts the program; it returns once the program runs.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("nsenter: already started")
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
		stdio := b.spec.Stdio
		b.close()
		if b, err = c.build(false, true); err != nil {
			// The start record is out: end it, as for a failed start.
			c.closeFiles()
			c.closeOwnEnds()
			c.auditFailed(err)
			return err
		}
		defer b.close()
		b.spec.Stdio = stdio
		p, err = spawn.Start(b.spec)
	}
	c.closeFiles()
	if err != nil {
		c.closeOwnEnds()
		err = b.childError(err)
		c.auditFailed(err)
		return err
	}
	c.Process = p
	c.copyErr = make(chan error, len(c.copiers))
	for _, f := range c.copiers {
		go func() { c.copyErr <- f() }()
	}
	return nil
}

// Wait waits for the program and its I/O copies to finish. A non-zero exit
// or a death by signal is an *ExitError.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("nsenter: not started")
	}
	ws, err := c.Process.Wait(c.RelayStops)
	c.signalMu.Lock()
	c.Process.Release()
	c.released = true
	c.signalMu.Unlock()
	if err != nil {
		c.auditRun.EndError(1, err)
		return err
	}
	c.auditRun.End(ws)
	c.ProcessState = &ws
	var copyErr error
	for range c.copiers {
		if e := <-c.copyErr; e != nil && copyErr == nil {
			copyErr = e
		}
	}
	if ws.Exited() && ws.ExitStatus() == 0 {
		return copyErr
	}
	return &ExitError{Status: ws}
}

// Signal sends sig to the started program (or to the process relaying for
// it, which passes it on). Once Wait has collected the program, it does
// nothing and returns nil: the program is gone and its pidfd released.
// It may be called concurrently with Wait.
func (c *Cmd) Signal(sig syscall.Signal) error {
	c.signalMu.Lock()
	defer c.signalMu.Unlock()
	if c.Process == nil {
		return errors.New("nsenter: not started")
	}
	if c.released {
		return nil
	}
	return c.Process.Signal(sig)
}

// Exec enters and executes the program in place of this process, without a
// fork (nsenter -F). It returns only on failure. User and time namespaces
// cannot be entered this way: the kernel requires a single-threaded process
// for them, and a Go program never is one.
func (c *Cmd) Exec() error {
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
