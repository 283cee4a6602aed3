package spawn

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// nsx forks where util-linux executes in place, so it catches the signals
// meant for the program and passes them on (forwardedSignals). os/signal
// would do the catching at a cost out of proportion to it: it enables each
// signal through a round trip to a runtime thread kept for the purpose
// (about 50 µs each on a virtual machine, 0.47 ms for the nine, a sixth of
// util-linux nsenter's whole run) and keeps a second thread waiting for
// deliveries. The handler here passes a signal on itself, from whichever
// thread takes it, and is installed with one rt_sigaction per signal just
// before the program starts. Before that, a signal acts as it would on any
// Go program: a Ctrl-C while a container is being resolved ends nsx.

// The handler's state (catch_linux_amd64.s), read and written atomically.
var (
	// caughtPending has bit sig-1 set for each signal caught and not yet
	// passed on.
	caughtPending uint64
	// caughtTarget is the pidfd signals go to, plus one: 0 while the
	// program starts (signals are held), -1 once forwarding has stopped
	// (they are dropped).
	caughtTarget int64
	// caughtPid is the program's PID, for the terminal check.
	caughtPid int64
	// caughtBusy counts handlers that have read caughtTarget and may still
	// send to it.
	caughtBusy int64
)

// catching is set once CatchSignals has installed the handler.
var catching atomic.Bool

// CanCatchSignals reports whether CatchSignals can catch here: this
// architecture has the handler (only amd64 does), the kernel has
// pidfd_open (Linux 5.3), and nothing has caught yet. Otherwise the caller
// catches with os/signal.
func CanCatchSignals() bool {
	return canCatch && !catching.Load() && pidfdOpenWorks()
}

// CatchSignals makes this process catch ForwardedSignals with a handler of
// its own, which holds them until ForwardCaught names the program and then
// passes each on as it arrives (with pidfd_send_signal). A terminal's INT,
// QUIT or resize is not passed on when the program is in nsx's process
// group: the terminal sent it there already. A signal this process ignores
// (as nohup and a shell's & leave SIGHUP and SIGINT) stays ignored, and the
// program inherits that, as it would from util-linux. A caught signal stays
// caught for the life of the process.
//
// It reports false and catches nothing when CanCatchSignals does.
func CatchSignals() bool {
	if !CanCatchSignals() || !catching.CompareAndSwap(false, true) {
		return false
	}
	handler, restorer := caughtHandler()
	act := sigaction{
		handler:  handler,
		flags:    saSiginfo | saOnstack | saRestart | saRestorer,
		restorer: restorer,
		mask:     signalMask(forwardedSignals[:]), // no handler interrupts another
	}
	for _, sig := range forwardedSignals {
		var old sigaction
		setSigaction(sig, &act, &old)
		if old.handler == sigIgn {
			setSigaction(sig, &old, nil)
		}
	}
	return true
}

// pidfdOpenWorks says whether the kernel has pidfd_open: asked for no
// process at all (pid -1), one that has it refuses with EINVAL, and a
// kernel before 5.3, or a seccomp profile, answers otherwise. No fd is
// opened, and the kernel is asked once.
var pidfdOpenWorks = sync.OnceValue(func() bool {
	_, err := unix.PidfdOpen(-1, 0)
	return err == unix.EINVAL
})

// ForwardCaught starts passing caught signals on to the process pid, a
// child of this process that has not been waited for (so the PID is still
// its own), beginning with those held since CatchSignals. It fails only if
// no pidfd could be opened for pid; forwarding has then stopped.
func ForwardCaught(pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		StopForwarding()
		return err
	}
	atomic.StoreInt64(&caughtPid, int64(pid))
	atomic.StoreInt64(&caughtTarget, int64(fd)+1)
	// A handler that recorded its signal before the store above found no
	// target; its signal is sent here. One that came after sends its own.
	for held := atomic.SwapUint64(&caughtPending, 0); held != 0; held &= held - 1 {
		unix.PidfdSendSignal(fd, syscall.Signal(bits.TrailingZeros64(held)+1), nil, 0)
	}
	return nil
}

// StopForwarding ends the passing on: once it returns no handler sends
// anything, and signals caught later are dropped. The pidfd is closed
// after the last handler that could use it is done, so that no signal goes
// to a reused fd number.
func StopForwarding() {
	target := atomic.SwapInt64(&caughtTarget, -1)
	for atomic.LoadInt64(&caughtBusy) != 0 {
		runtime.Gosched()
	}
	if target > 0 {
		unix.Close(int(target - 1))
	}
}
