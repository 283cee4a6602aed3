package spawn

import "syscall"

// forwardedSignals are the signals nsx catches and passes on to the program
// it started: those a user or a supervisor sends to stop, reload or wake a
// program, and a terminal's resize. nsx forks where util-linux executes in
// place, so without this a signal meant for the program would end nsx
// instead. A relaying process (a fork for a PID namespace) passes on the
// same set; nsx enter and nsx unshare catch it.
var forwardedSignals = [...]syscall.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH, syscall.SIGCONT,
}

// ForwardedSignals returns (a copy of) the signals nsx passes on to the
// program it started.
func ForwardedSignals() []syscall.Signal {
	return append([]syscall.Signal(nil), forwardedSignals[:]...)
}

// signalMask is sigs as a sigset_t bit mask.
func signalMask(sigs []syscall.Signal) uint64 {
	var m uint64
	for _, s := range sigs {
		m |= 1 << (uint(s) - 1)
	}
	return m
}
