package cli

// nsx helper-idle is the main process of kubectl-nsx's helper pods: the
// image holds nothing but nsx, so nsx itself must be what keeps the pod
// running between `kubectl exec` calls. It is hidden from `nsx help`: users
// never type it.
//
// Activity is seen from the kernel, not from a protocol: every process that
// `kubectl exec` starts in the helper's container lands in the container's
// cgroup, so while any other process shares this process's cgroups a
// session is running. Nothing listens on a socket.

import (
	"bytes"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nsxproject/nsx/internal/getopt"
	"github.com/nsxproject/nsx/procfs"
)

var helperIdleOptions = []getopt.Option{
	{Long: "idle", Arg: getopt.RequiredArg},
}

// runHelperIdle waits until no other process has shared its cgroups for the
// --idle duration (forever without it, as the agent's pods do), or until
// SIGTERM or SIGINT, and exits 0.
func runHelperIdle(env *Env, args []string) int {
	p := &getopt.Parser{Options: helperIdleOptions}
	results, operands, err := p.Parse(args)
	if err != nil {
		return env.UsageError(err)
	}
	if len(operands) > 0 {
		return env.Errorf("unexpected argument %q", operands[0])
	}
	var idle time.Duration
	for _, r := range results {
		if r.Option.Long == "idle" {
			d, err := time.ParseDuration(r.Value)
			if err != nil || d < 0 {
				return env.Errorf("invalid --idle duration %q (want e.g. 90s or 5m)", r.Value)
			}
			idle = d
		}
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if idle == 0 {
		<-stop
		return 0
	}
	own, err := procfs.ReadSmall("/proc/self/cgroup")
	if err != nil {
		return env.Errorf("%s", err)
	}
	self := os.Getpid()
	// Poll a few times per idle period, at most once a second: the scan
	// reads one small file per host process (the helper has hostPID).
	interval := min(idle/4, time.Second)
	interval = max(interval, 10*time.Millisecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-stop:
			return 0
		case now := <-tick.C:
			if sessionRunning(own, self) {
				last = now
			} else if now.Sub(last) >= idle {
				return 0
			}
		}
	}
}

// sessionRunning reports whether a process other than self has exactly the
// cgroup memberships own lists.
func sessionRunning(own []byte, self int) bool {
	pids, err := procfs.ListPIDs()
	if err != nil {
		// Cannot tell: count it as activity rather than end a session.
		return true
	}
	for _, pid := range pids {
		if pid == self {
			continue
		}
		b, err := procfs.ReadSmall("/proc/" + strconv.Itoa(pid) + "/cgroup")
		if err == nil && bytes.Equal(b, own) {
			return true
		}
	}
	return false
}
