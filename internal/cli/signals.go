package cli

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/nsenter"
)

// util-linux's nsenter usually executes the program in place, so a signal
// sent to it is a signal sent to the program. nsx always forks, so it
// catches the signals a user or a supervisor sends (which also keeps a
// Ctrl-C from ending nsx before the program) and passes them on; the
// program's status, whatever it does with them, becomes nsx's.

// forwardedSignals are the signals nsx passes on to the program; the raw
// child's relaying process passes on the same set (spawn.relayedSignals).
var forwardedSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGCONT,
}

// signalForwarder catches forwardedSignals from before the program starts
// until it has been collected.
type signalForwarder struct {
	ch         chan os.Signal
	done       chan struct{}
	forwarding bool
}

// catchSignals starts catching; call it before starting the program so that
// no signal in between ends nsx, and call stop when the program is gone.
func catchSignals() *signalForwarder {
	f := &signalForwarder{ch: make(chan os.Signal, 16), done: make(chan struct{})}
	signal.Notify(f.ch, forwardedSignals...)
	return f
}

// forwardTo passes caught signals on to the started program, the ones caught
// before it started included.
func (f *signalForwarder) forwardTo(cmd *nsenter.Cmd) {
	f.forwarding = true
	go func() {
		defer close(f.done)
		for sig := range f.ch {
			s := sig.(syscall.Signal)
			if terminalSentToProgram(s, cmd.Process.Pid) {
				continue
			}
			cmd.Signal(s)
		}
	}()
}

// stop stops catching and waits for the forwarding, if any, to end.
func (f *signalForwarder) stop() {
	signal.Stop(f.ch)
	close(f.ch)
	if f.forwarding {
		<-f.done
	}
}

// terminalSentToProgram reports whether sig is one a terminal sends to its
// foreground process group (Ctrl-C, Ctrl-\, a resize) while nsx and the
// program are both in that group: the program then got it from the
// terminal already, and passing it on would deliver it twice. Go does not
// say who sent a signal, so a kill(1) of nsx's own PID with one of these
// while nsx is in the foreground is taken for the terminal's too.
func terminalSentToProgram(sig syscall.Signal, pid int) bool {
	if sig != syscall.SIGINT && sig != syscall.SIGQUIT && sig != syscall.SIGWINCH {
		return false
	}
	tty, err := unix.Open("/dev/tty", unix.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false // no controlling terminal: someone sent it
	}
	defer unix.Close(tty)
	fg, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		return false
	}
	pgid, err := unix.Getpgid(pid)
	return err == nil && pgid == fg
}
