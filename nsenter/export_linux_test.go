package nsenter

import "github.com/nsxproject/nsx/target"

// SwapTargetPidfd makes Start use fd as every target's pidfd for its joins,
// until the returned function restores the real one (a kernel with pidfds
// whose setns refuses them, 5.3 to 5.7, gives EINVAL as any non-namespace
// fd does).
func SwapTargetPidfd(fd int) (restore func()) {
	old := targetPidfd
	targetPidfd = func(*target.Pinned) int { return fd }
	return func() { targetPidfd = old }
}
