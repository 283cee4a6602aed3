package nsenter

// No init here locks the main goroutine to the main thread (m0), as one
// did: a goroutine that joins namespaces and exits locked must never be
// on m0, because the runtime parks m0 instead of ending it, and m0 would
// carry the foreign namespaces on, visible in /proc/self/ns
// (golang/go#34031). internal/spawn keeps its joining goroutines off m0
// by itself (goOffMain), for Start, ExecInPlace's callers and Do alike, so
// the lock, which cost every nsx run a template thread and a thread handoff
// each time the main goroutine blocked (0.84-0.90× the time of nsx enter
// with it, bench/alternate), is gone. TestDoNeverTaintsTheMainThread fails
// if a path that joins on its own goroutine comes back.
