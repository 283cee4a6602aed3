package nsenter

// No init here locks the main goroutine to the main thread (m0), as one did
// (it cost every nsx run a thread handoff each time the main goroutine
// blocked: 0.84–0.91× the time of nsx enter without it, bench/alternate).
//
// What the lock used to give for free is now done where it is needed:
//   - No joining goroutine may run on m0, which the runtime parks instead of
//     ending and which would carry foreign namespaces on (golang/go#34031):
//     internal/spawn starts every joining goroutine off m0 (goOffMain).
//     Guarded by TestDoNeverTaintsTheMainThread and
//     TestOffMainNeverRunsOnTheMainThread.
//   - Stopping nsx with its child (the -p stop relay): a SIGSTOP sent to the
//     process is taken by m0, and a Wait on another thread went on to
//     continue the child before the stop reached it. spawn's Wait stops its
//     own thread instead (tgkill). Guarded by TestNsenterDiff/stop-continue
//     and group-stop-continue.
//   - unshare --kill-child: PR_SET_PDEATHSIG fires when the thread that
//     forked the relaying child ends. nsx unshare locks its goroutine for the
//     run, so that the thread outlives the child. Guarded by
//     TestUnshareKillChild, which finds the child under whichever thread
//     forked it (/proc/PID/task/*/children).
