package nsenter

import "runtime"

// The main goroutine is locked to the main thread (m0) for the life of the
// program. If it were not, a goroutine that joins namespaces and exits locked
// could be running on m0, and the runtime keeps m0 alive instead of killing
// it: m0 would carry the foreign namespaces on, visible in /proc/self/ns and
// inherited by every thread started later (golang/go#34031). internal/spawn
// also keeps its joining goroutines off m0 (goOffMain), but the lock stays:
// without it the thread that forks a program can be one that exits while the
// program runs, and what the kernel ties to the forking thread goes with it
// (unshare --kill-child's PR_SET_PDEATHSIG fired at once, and nsenter -p's
// stop relay lost the child's stops: TestUnshareKillChild and
// TestNsenterDiff/*stop-continue fail without it), although dropping it
// measured 0.84–0.91× the time of nsx enter.
func init() {
	runtime.LockOSThread()
}
