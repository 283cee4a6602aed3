package nsenter

import "runtime"

// The main goroutine is locked to the main thread (m0) for the life of the
// program. If it were not, a goroutine that joins namespaces and exits locked
// could be running on m0, and the runtime keeps m0 alive instead of killing
// it: m0 would carry the foreign namespaces on, visible in /proc/self/ns and
// inherited by every thread started later (golang/go#34031). internal/spawn
// also keeps its joining goroutines off m0 (goOffMain), and Wait's stop relay
// and unshare --kill-child no longer depend on which thread they run on, but
// the lock stays. It cost 1.09× the time of nsx enter while the CLI
// caught signals on the main goroutine (each round trip to the runtime's
// signal thread handed m0's P over and back); since they are caught on a
// goroutine of their own, the lock costs about 1.01×. Without it `make test`
// once saw TestNsenterDiff/group-stop-continue find nsx stopped again after
// the group was continued, under load; that race was not found.
func init() {
	runtime.LockOSThread()
}
