package cli

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/spawn"
)

// util-linux's nsenter usually executes the program in place, so a signal
// sent to it is a signal sent to the program. nsx always forks, so it
// catches the signals a user or a supervisor sends (which also keeps a
// Ctrl-C from ending nsx before the program) and passes them on; the
// program's status, whatever it does with them, becomes nsx's.

// signalForwarder catches spawn.ForwardedSignals while the program starts
// and runs, and passes them on to it; a signal caught before the program
// exists ends nsx as it would have without the catching (a Ctrl-C while a
// container is being resolved interrupts nsx).
//
// Where spawn.CatchSignals can, its handler does the catching and passing
// on, installed as the program starts (starting or hold). Elsewhere
// os/signal does: it enables each signal through a runtime thread of its
// own, one round trip between threads per signal (50–80 µs here), so the
// signals are caught on a goroutine of their own while nsx resolves, pins
// and enters the target (nsx enter's Cmd waits for them only to create the
// program's process: spawn.WithStartGate), and never released: stop only
// makes the forwarding end, and nsx exits right after.
type signalForwarder struct {
	handled bool          // spawn.CatchSignals catches, when hold is called
	caught  chan struct{} // closed once every signal is caught (at once when handled)

	mu      sync.Mutex // held while the program starts
	send    func(syscall.Signal) error
	pid     int
	stopped bool
}

// catchSignals starts catching. Call starting just before the program
// starts, then forwardTo or startFailed, and stop when the program is
// gone.
func catchSignals() *signalForwarder {
	f := &signalForwarder{caught: make(chan struct{}), handled: spawn.CanCatchSignals()}
	if f.handled {
		close(f.caught)
		return f
	}
	go func() {
		ch := make(chan os.Signal, 16)
		sigs := make([]os.Signal, 0, len(spawn.ForwardedSignals()))
		for _, sig := range spawn.ForwardedSignals() {
			sigs = append(sigs, sig)
		}
		signal.Notify(ch, sigs...)
		close(f.caught)
		for sig := range ch {
			f.forward(sig.(syscall.Signal))
		}
	}()
	return f
}

// starting returns once every signal is caught, and holds caught signals
// back until forwardTo or startFailed.
func (f *signalForwarder) starting() {
	<-f.caught
	f.hold()
}

// hold holds caught signals back until forwardTo or startFailed, for a
// start that waits for the catching itself (its start gate is f.caught):
// a signal not caught yet still ends nsx, before any program exists.
func (f *signalForwarder) hold() {
	if f.handled {
		if !spawn.CatchSignals() {
			panic("cli: spawn.CatchSignals declined after CanCatchSignals")
		}
		return
	}
	f.mu.Lock()
}

// forwardTo passes caught signals on to the started program, whose PID is
// pid, through send, beginning with those held back while it started.
func (f *signalForwarder) forwardTo(pid int, send func(syscall.Signal) error) {
	if f.handled {
		spawn.ForwardCaught(pid) // fails only without a free fd: no forwarding then
		return
	}
	f.send, f.pid = send, pid
	f.mu.Unlock()
}

// startFailed says the program did not start; later signals are dropped.
func (f *signalForwarder) startFailed() {
	if f.handled {
		spawn.StopForwarding()
		return
	}
	f.stopped = true
	f.mu.Unlock()
}

func (f *signalForwarder) forward(sig syscall.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.stopped:
	case f.send == nil:
		// No program yet: the default action, which for these is to
		// end the process, except for a resize and a continue.
		if sig != syscall.SIGWINCH && sig != syscall.SIGCONT {
			spawn.DieOfSignal(sig)
		}
	case !terminalSentToProgram(sig, f.pid):
		f.send(sig)
	}
}

// stop ends the forwarding: once it returns no signal goes out, so it must
// come before whatever makes send unsafe (releasing a pidfd). A signal
// that arrives later is caught and dropped: nsx is about to end as its
// program ended, and such a signal must not change how.
func (f *signalForwarder) stop() {
	if f.handled {
		spawn.StopForwarding()
		return
	}
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
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
