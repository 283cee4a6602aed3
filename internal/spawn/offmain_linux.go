package spawn

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// goOffMain runs fn on a new goroutine locked to an OS thread that is not
// the main thread (m0), for work that changes the thread's namespaces, root
// or directory: such a thread must end with its goroutine, and the runtime
// never ends m0 but parks it, keeping the foreign namespaces in
// /proc/self/ns and in every thread m0 would start (golang/go#34031).
//
// fn's goroutine is locked once; fn may lock again or unlock (an untainted
// thread may go back to the scheduler). When the new goroutine lands on m0,
// it holds m0 locked and blocked while fn runs on a second goroutine, which
// therefore gets another thread; m0 is unlocked again once fn returns. So no
// runtime.LockOSThread of the main goroutine is needed to keep m0 clean.
func goOffMain(fn func()) {
	go func() {
		runtime.LockOSThread()
		if unix.Gettid() != unix.Getpid() {
			fn()
			return
		}
		held := make(chan struct{})
		go func() {
			defer close(held)
			runtime.LockOSThread()
			fn()
		}()
		<-held
		runtime.UnlockOSThread()
	}()
}
