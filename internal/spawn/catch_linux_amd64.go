package spawn

// canCatch says that this architecture has forwardCaught, so that
// CatchSignals can catch signals without os/signal.
const canCatch = true

// forwardCaught is the signal handler (catch_linux_amd64.s); it is entered
// only by the kernel, never called from Go.
//
//lint:ignore U1000 entered by the kernel, through caughtHandler's address
func forwardCaught()

// caughtReturn is forwardCaught's sa_restorer; never called from Go.
//
//lint:ignore U1000 entered by the kernel, through caughtHandler's address
func caughtReturn()

// caughtHandler returns the entry addresses of forwardCaught and
// caughtReturn, for rt_sigaction.
func caughtHandler() (handler, restorer uintptr)
