package nsenter

import "runtime"

// The main goroutine is locked to the main thread (m0) for the life of the
// program. If it were not, a goroutine that joins namespaces and exits locked
// could be running on m0, and the runtime keeps m0 alive instead of killing
// it: m0 would carry the foreign namespaces on, visible in /proc/self/ns and
// inherited by every thread started later (golang/go#34031).
func init() {
	runtime.LockOSThread()
}
