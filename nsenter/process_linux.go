package nsenter

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/spawn"
)

// Process is a program started by Cmd.Start, as os.Process is for
// exec.Cmd. Signals go through a pidfd that pins the process, so they never
// reach a process that reused its PID; once Wait has collected the program
// they fail with os.ErrProcessDone.
type Process struct {
	// Pid is the program's PID as this process sees it, or that of the
	// process relaying for it when the program runs in a PID namespace
	// entered after the fork.
	Pid int

	// mu orders signals against Wait's release of the pidfd, so a signal
	// never goes to a reused fd number; done is set under it.
	mu   sync.Mutex
	done bool
	sp   *spawn.Process
}

func newProcess(sp *spawn.Process) *Process {
	return &Process{Pid: sp.Pid, sp: sp}
}

// Signal sends sig to the program (or to the process relaying for it, which
// passes the signals nsx forwards on). It may be called concurrently with
// Wait. Only syscall.Signal values can be sent.
func (p *Process) Signal(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return errors.New("nsenter: unsupported signal type")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return os.ErrProcessDone
	}
	if err := p.sp.Signal(s); err != nil {
		if err == unix.ESRCH {
			// Dead but not yet collected: as os.Process says.
			return os.ErrProcessDone
		}
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}

// Kill sends SIGKILL to the program (or to the process relaying for it).
func (p *Process) Kill() error {
	return p.Signal(syscall.SIGKILL)
}

// wait collects the program and releases its pidfd.
func (p *Process) wait(relayStops bool) (*ProcessState, unix.WaitStatus, error) {
	ws, err := p.sp.Wait(relayStops)
	p.mu.Lock()
	p.sp.Release()
	p.done = true
	p.mu.Unlock()
	if err != nil {
		return nil, ws, err
	}
	return &ProcessState{pid: p.Pid, status: syscall.WaitStatus(ws)}, ws, nil
}

// ProcessState is how a program ended, as os.ProcessState reports it for
// exec.Cmd.
type ProcessState struct {
	pid    int
	status syscall.WaitStatus
}

// Pid is the PID of the process that ended.
func (s *ProcessState) Pid() int { return s.pid }

// Exited reports whether the program called exit (rather than being killed
// by a signal).
func (s *ProcessState) Exited() bool { return s.status.Exited() }

// Success reports whether the program exited with status 0.
func (s *ProcessState) Success() bool { return s.status.Exited() && s.status.ExitStatus() == 0 }

// ExitCode is the exit status, or -1 when a signal ended the program (or s
// is nil), as os.ProcessState.ExitCode.
func (s *ProcessState) ExitCode() int {
	if s == nil || !s.status.Exited() {
		return -1
	}
	return s.status.ExitStatus()
}

// Signaled reports whether a signal ended the program.
func (s *ProcessState) Signaled() bool { return s.status.Signaled() }

// Signal is the signal that ended the program, or -1 when it exited.
func (s *ProcessState) Signal() syscall.Signal { return s.status.Signal() }

// Sys returns the wait status, a syscall.WaitStatus.
func (s *ProcessState) Sys() any { return s.status }

// String describes the end as os.ProcessState does: "exit status 3",
// "signal: killed", "signal: segmentation fault (core dumped)".
func (s *ProcessState) String() string {
	if s == nil {
		return "<nil>"
	}
	switch {
	case s.status.Exited():
		return "exit status " + strconv.Itoa(s.status.ExitStatus())
	case s.status.Signaled():
		msg := "signal: " + s.status.Signal().String()
		if s.status.CoreDump() {
			msg += " (core dumped)"
		}
		return msg
	}
	return "wait status " + strconv.FormatUint(uint64(s.status), 10)
}

// ExitError reports a program that did not exit with status 0, as
// exec.ExitError does.
type ExitError struct {
	*ProcessState
	// Stderr holds (the start and end of) the program's standard error
	// when Cmd.Output collected it, for the error message's reader.
	Stderr []byte
}

func (e *ExitError) Error() string { return e.ProcessState.String() }
