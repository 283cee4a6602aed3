//go:build linux && !amd64

package spawn

// canCatch is false where nsx has no forwardCaught: CatchSignals declines,
// and the caller catches with os/signal.
const canCatch = false

func caughtHandler() (handler, restorer uintptr) {
	panic("spawn: no signal handler on this architecture")
}
